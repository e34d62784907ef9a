"""The annotated video writer: read back with PyAV and OpenCV, playable after kill -9 and
SIGTERM, no file without frames, a run cut short kept and flagged partial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import av
import numpy as np
import pytest

from arpose._cv import cv2
from arpose.errors import ConfigError, OutputError
from arpose.record import VideoWriter, partial_path

REPO = Path(__file__).resolve().parents[2]


def level(i: int) -> int:
    """The grey level of test frame ``i``: 28 distinct levels 8 apart, so a decoded frame
    tells its index (mod 28) despite compression."""
    return 20 + 8 * (i % 28)


def frame(i: int, size=(320, 240)) -> np.ndarray:
    return np.full((size[1], size[0], 3), level(i), np.uint8)


def read_av(path: Path) -> tuple[list[int], float, str]:
    """Decoded frames' grey levels, the stream's average rate and codec, with PyAV."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        levels = [int(round(f.to_ndarray(format="bgr24").mean())) for f in c.decode(video=0)]
        return levels, float(s.average_rate), s.codec_context.name


def read_cv(path: Path) -> tuple[list[int], float, int, tuple[int, int]]:
    """Decoded frames' grey levels, fps, declared frame count and size, with OpenCV."""
    cap = cv2.VideoCapture(str(path))
    declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = cap.get(cv2.CAP_PROP_FPS)
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    levels = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        levels.append(int(round(image.mean())))
    cap.release()
    return levels, fps, declared, size


def assert_frames_in_order(levels: list[int]) -> None:
    """Decoded frame ``k`` is frame ``k``: FFmpeg's default BGR -> limited-range YUV -> BGR
    round trip reads grey levels 0-4 darker (OpenCV's own writer did the same), a neighbouring
    frame would be 8 off."""
    diff = np.subtract(levels, [level(i) for i in range(len(levels))])
    assert np.all((diff >= -6) & (diff <= 2)), (levels, diff)


@pytest.mark.parametrize(
    "name, fps, codec",
    [("a.mp4", 10.0, "h264"), ("a.mov", 25.0, "h264"), ("a.mkv", 30000 / 1001, "h264"), ("a.avi", 15.0, "mjpeg")],
)
def test_frames_and_rate_read_back_with_pyav_and_opencv(tmp_path, name, fps, codec):
    path = tmp_path / name
    with VideoWriter(path, fps, (320, 240)) as w:
        for i in range(42):
            w.write(frame(i))
    assert w.result.path == path and w.result.frames == 42 and not w.result.partial
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # the .partial name is gone
    levels, rate, got_codec = read_av(path)
    assert len(levels) == 42 and rate == pytest.approx(fps, rel=1e-4) and got_codec == codec
    assert_frames_in_order(levels)
    levels, cv_fps, declared, size = read_cv(path)
    assert len(levels) == declared == 42 and cv_fps == pytest.approx(fps, rel=1e-4) and size == (320, 240)
    assert_frames_in_order(levels)


def test_odd_size_falls_back_to_mpeg4_and_frames_are_resized(tmp_path):
    path = tmp_path / "odd.mp4"
    with VideoWriter(path, 10.0, (321, 243)) as w:
        for i in range(5):
            w.write(frame(i, (640, 480)))  # resized to the writer's size
    levels, _, codec = read_av(path)
    assert codec == "mpeg4" and len(levels) == 5
    assert_frames_in_order(levels)
    assert read_cv(path)[3] == (321, 243)


def test_no_frames_leaves_no_file_and_keeps_what_was_there(tmp_path):
    for name in ("none.mp4", "none.png"):
        w = VideoWriter(tmp_path / name, 10.0, (320, 240))
        assert not w.path.exists() and not partial_path(w.path).exists()  # nothing before the first frame
        result = w.close()
        assert not result.kept and "not written" in result.describe()
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.mp4"
    old.write_bytes(b"an earlier video")
    VideoWriter(old, 10.0, (320, 240), force=True).close()
    assert old.read_bytes() == b"an earlier video"


def test_a_run_cut_short_keeps_its_frames_and_says_partial(tmp_path):
    path = tmp_path / "cut.mp4"
    with pytest.raises(RuntimeError, match="source failed"):
        with VideoWriter(path, 10.0, (320, 240)) as w:
            for i in range(7):
                w.write(frame(i))
            raise RuntimeError("source failed")
    assert w.result.partial and w.result.frames == 7 and "partial" in w.result.describe()
    levels, _, _ = read_av(path)
    assert len(levels) == 7
    assert w.close() is w.result  # closing twice returns the first result


def test_image_output_is_the_last_frame(tmp_path):
    path = tmp_path / "last.png"
    with VideoWriter(path, 10.0, (320, 240)) as w:
        for i in range(3):
            w.write(frame(i))
    assert int(cv2.imread(str(path)).mean()) == level(2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.png"]


@pytest.mark.parametrize(
    "args, error, message",
    [
        (("x.webm", 10.0, (320, 240)), OutputError, "unsupported video extension '.webm'"),
        (("x.mp4", 0.0, (320, 240)), ConfigError, "frame rate must be a positive number"),
        (("x.mp4", float("nan"), (320, 240)), ConfigError, "frame rate"),
        (("x.mp4", 10.0, (0, 240)), ConfigError, "size must be positive"),
    ],
)
def test_bad_arguments(tmp_path, args, error, message):
    with pytest.raises(error, match=message):
        VideoWriter(tmp_path / args[0], *args[1:])
    assert list(tmp_path.iterdir()) == []


KILL_SCRIPT = textwrap.dedent("""
    import signal, sys, time
    import numpy as np
    from arpose.record import VideoWriter
    path, fps, handle = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "handle"
    w = VideoWriter(path, fps, (320, 240))
    if handle:  # what the app does on SIGTERM: close the outputs as cut short
        def stop(signum, frame):
            w.close(partial=True)
            sys.exit(143)
        signal.signal(signal.SIGTERM, stop)
    i = 0
    while True:
        w.write(np.full((240, 320, 3), 20 + 8 * (i % 28), np.uint8))
        print(i, flush=True)
        i += 1
        time.sleep(0.02)
""")


def _write_then_signal(tmp_path: Path, sig: int, handle: bool, name: str = "killed.mp4", fps: float = 10.0):
    """Run a writer in a subprocess, send ``sig`` once it wrote 45 frames; returns the number
    of frames it had written."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(tmp_path / name), str(fps), "handle" if handle else "-"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    written = 0
    try:
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            written = int(line) + 1
            if written >= 45 or time.monotonic() > deadline:
                break
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return written, proc.returncode


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.parametrize("name", ["killed.mp4", "killed.mkv"])
def test_killed_video_plays_up_to_the_last_fragment(tmp_path, sig, name):
    """No handler: the process dies where it is. The video stays under its .partial name and
    plays in PyAV and OpenCV up to its last fragment: at most a quarter of a second and a frame
    (at 10 fps: 4 frames) before the kill (measured: 1 frame in MP4, 3 in Matroska)."""
    written, code = _write_then_signal(tmp_path, sig, handle=False, name=name)
    assert written >= 45 and code == -sig
    left = partial_path(tmp_path / name)
    assert sorted(tmp_path.iterdir()) == [left]
    for levels in (read_av(left)[0], read_cv(left)[0]):
        assert written - 4 <= len(levels) <= written + 2  # it may write a frame or two more before the signal
        assert_frames_in_order(levels)


@pytest.mark.slow
def test_sigterm_handled_by_closing_keeps_every_frame_under_the_final_name(tmp_path):
    written, code = _write_then_signal(tmp_path, signal.SIGTERM, handle=True)
    assert code == 143
    path = tmp_path / "killed.mp4"
    assert sorted(tmp_path.iterdir()) == [path]
    levels, _, _ = read_av(path)
    assert written <= len(levels) <= written + 2
    assert_frames_in_order(levels)
    assert read_cv(path)[2] == len(levels)
