"""Take files: exact round trip, absent fields, truncation, kill -9, corrupt and foreign files."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from arpose.errors import InputError, OutputError
from arpose.record.output import partial_path
from arpose.record.take import (
    TakeRecorder,
    TakeWriter,
    TruncatedTakeWarning,
    auto_take_name,
    read_take,
    take_header,
)

sys.path.insert(0, str(Path(__file__).parent))  # the shared synthetic-take helper beside this file
from takegen import CAMERA, pose_frames  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _header():
    return take_header(
        source="synthetic",
        source_kind="video",
        resolution=(320, 240),
        fps=30.0,
        camera=CAMERA,
        command="test",
        settings={"smooth": {"min_cutoff": 1.0}},
    )


def _eq(a, b):
    if a is None or b is None:
        assert a is None and b is None
        return
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)  # NaN == NaN here


def test_round_trip_is_exact(tmp_path):
    frames = pose_frames(np.arange(20) / 30.0, people=(0, 1))
    path = tmp_path / "a.take"
    with TakeWriter(path, _header()) as w:
        for pf in frames:
            w.write(pf, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        take = read_take(path)
    assert not take.truncated and take.warning is None
    assert take.header["format"] == "arpose-take" and take.header["version"] == 1
    assert take.header["skeleton"]["bones"][0] == "Hips" and take.camera == CAMERA
    assert take.resolution == (320, 240) and take.fps == 30.0
    assert take.header["settings"] == {"smooth": {"min_cutoff": 1.0}}
    assert len(take.frames) == 20
    for pf, tf in zip(frames, take.frames):
        assert (tf.index, tf.timestamp) == (pf.index, pf.timestamp)
        assert len(tf.people) == len(pf.people)
        for a, b in zip(pf.people, tf.people):
            assert a.id == b.id and a.score == pytest.approx(b.score)
            for name in ("landmarks", "world", "raw_landmarks", "raw_world"):
                _eq(getattr(a, name), getattr(b, name))
            for name in ("local_rotations", "root_position", "positions", "offsets", "bone_confidence", "foot_contact"):
                _eq(np.asarray(getattr(a.body, name)), np.asarray(getattr(b.body, name)))
            assert b.body.reprojection_error_px == 1.5 and np.isnan(b.body.floor_height)
            assert b.angles["left_elbow"] == a.angles["left_elbow"] and np.isnan(b.angles["right_knee"])
    assert take.person_ids == [0, 1]
    # PoseFrames for replay: a shared read-only black image of the take's resolution.
    pfs = list(take.pose_frames())
    assert len(pfs) == 20 and pfs[0].frame.size == (320, 240) and not pfs[0].frame.image.flags.writeable


def test_unavailable_fields_are_absent_not_zero(tmp_path):
    path = tmp_path / "b.take"
    from takegen import person_at

    from arpose.types import Frame, PoseFrame

    img = np.zeros((2, 2, 3), np.uint8)
    with TakeWriter(path, _header()) as w:
        w.write(PoseFrame(Frame(img, 0.0, 0), (person_at(0.0, body=False, raw=False).with_(angles=None),)))
    text = path.read_text()
    for key in ('"body"', '"angles"', '"raw_landmarks"', '"raw_world"'):
        assert key not in text
    p = read_take(path).frames[0].people[0]
    assert p.body is None and p.angles is None and p.raw_landmarks is None and p.raw_world is None


def test_fsync_runs_in_the_background(tmp_path):
    w = TakeWriter(tmp_path / "s.take", _header(), sync_interval=0.05)
    assert w.syncs == 0 and not w.temp.exists()  # nothing on disk before the first frame
    for pf in pose_frames(np.arange(3) / 30.0):
        w.write(pf)
    assert w.temp.exists() and not w.path.exists()  # recorded under NAME.partial.take
    deadline = time.monotonic() + 5.0
    while w.syncs < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert w.syncs >= 2  # written frames were synced without another write or close
    idle = w.syncs
    time.sleep(0.2)
    assert w.syncs == idle  # nothing new written: no fsync
    result = w.close()
    assert w.syncs == idle + 1 and not w._syncer.is_alive()
    assert result.path == w.path and result.frames == 3 and not result.partial
    assert w.path.exists() and not w.temp.exists()  # renamed into place


def test_exists_needs_force(tmp_path):
    path = tmp_path / "c.take"
    path.write_text("precious")
    with pytest.raises(OutputError, match="--force"):
        TakeWriter(path, _header())
    assert path.read_text() == "precious"
    # With --force but no frame recorded, nothing replaces the old file.
    result = TakeWriter(path, _header(), force=True).close()
    assert not result.kept and path.read_text() == "precious"
    assert list(tmp_path.iterdir()) == [path]
    _write(path, 2, force=True)
    assert len(read_take(path).frames) == 2


def test_take_cut_short_keeps_its_frames_and_says_partial(tmp_path):
    path = tmp_path / "p.take"
    with pytest.raises(RuntimeError):
        with TakeWriter(path, _header()) as w:
            for pf in pose_frames(np.arange(4) / 30.0):
                w.write(pf)
            raise RuntimeError("the source failed")
    assert w.result.partial and w.result.frames == 4
    take = read_take(path)  # complete file: end record written
    assert not take.truncated and len(take.frames) == 4


def test_unknown_version_in_the_header_is_one_line(tmp_path):
    data = _write(tmp_path / "v.take", 2)
    lines = data.split(b"\n")
    header = json.loads(lines[1][9:])
    header["version"] = 99
    text = json.dumps(header).encode()
    lines[1] = b"%08x " % zlib.crc32(text) + text
    (tmp_path / "v99.take").write_bytes(b"\n".join(lines))
    with pytest.raises(InputError, match=r"version 99 is newer than this arpose reads \(1\)") as err:
        read_take(tmp_path / "v99.take")
    assert "\n" not in str(err.value)
    (tmp_path / "v0.take").write_bytes(b"ARPOSE-TAKE 0\n" + b"\n".join(lines[1:]))
    with pytest.raises(InputError, match=r"version 0 is unknown; this arpose reads version 1"):
        read_take(tmp_path / "v0.take")


def _write(path, n, force=False):
    with TakeWriter(path, _header(), force=force) as w:
        for pf in pose_frames(np.arange(n) / 30.0):
            w.write(pf)
    return path.read_bytes()


def test_truncated_take_opens_with_warning(tmp_path):
    data = _write(tmp_path / "full.take", 30)
    lines = data.split(b"\n")
    # Cut in the middle of frame 20's record (line 2 magic+header, frames from line index 2).
    cut = b"\n".join(lines[:22]) + b"\n" + lines[22][: len(lines[22]) // 2]
    (tmp_path / "cut.take").write_bytes(cut)
    with pytest.warns(TruncatedTakeWarning, match="truncated.*20 complete frames"):
        take = read_take(tmp_path / "cut.take")
    assert take.truncated and [f.index for f in take.frames] == list(range(20))
    # Cut exactly after a record: no end record, still a warning.
    (tmp_path / "noend.take").write_bytes(b"\n".join(lines[:12]) + b"\n")
    take = read_take(tmp_path / "noend.take", warn=False)
    assert take.truncated and "no end record" in take.warning and len(take.frames) == 10


def test_corrupt_record_is_an_error_unless_salvaged(tmp_path):
    data = bytearray(_write(tmp_path / "full.take", 10))
    lines = bytes(data).split(b"\n")
    bad = bytearray(lines[5])
    bad[40] ^= 0x01  # one flipped bit inside a middle record
    lines[5] = bytes(bad)
    (tmp_path / "bad.take").write_bytes(b"\n".join(lines))
    with pytest.raises(InputError, match=r"corrupt.*line 6.*--salvage"):
        read_take(tmp_path / "bad.take")
    take = read_take(tmp_path / "bad.take", salvage=True)
    assert take.skipped == 1 and len(take.frames) == 9 and not take.truncated


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"HIERARCHY\nROOT Hips\n", "BVH"),
        (b"frame,time_s,person\n", "landmark CSV"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "does not start with 'ARPOSE-TAKE'"),
        (b"ARPOSE-TAKE 7\n", "newer than this arpose reads"),
        (b"ARPOSE-TAKE 1\n", "header is missing"),
        (b'ARPOSE-TAKE 1\n00000000 {"type": "header"}\n', "header is corrupt"),
    ],
)
def test_foreign_and_broken_files(tmp_path, content, message):
    path = tmp_path / "x.take"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_take(path)


def test_missing_take(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_take(tmp_path / "nope.take")
    with pytest.raises(InputError, match="folder"):
        read_take(tmp_path)


def test_recorder_start_stop_and_auto_names(tmp_path):
    rec = TakeRecorder(_header())
    frames = pose_frames(np.arange(30) / 30.0)
    for pf in frames[:5]:
        rec.write(pf)  # idle: ignored
    first = rec.start(auto_take_name(tmp_path))
    assert rec.recording and first.name.startswith("take-") and first.suffix == ".take"
    for pf in frames[5:15]:
        rec.write(pf)
    assert rec.frames == 10
    assert rec.stop() == first and not rec.recording
    second = rec.toggle(tmp_path)
    assert second is not None and second != first  # same second: "-2" appended
    for pf in frames[15:20]:
        rec.write(pf)
    assert rec.toggle(tmp_path) is None
    rec.close()
    assert [f.index for f in read_take(first).frames] == list(range(5, 15))
    assert [f.index for f in read_take(second).frames] == list(range(15, 20))
    assert rec.finished == [first, second]
    # A take stopped before any frame leaves no file and is not listed.
    third = rec.start(tmp_path / "empty.take")
    assert rec.stop() is None and not third.exists() and rec.finished == [first, second]


def test_auto_name_skips_a_partial_take_left_by_a_kill(tmp_path):
    now = datetime.datetime(2024, 5, 1, 12, 0, 0)
    first = auto_take_name(tmp_path, now=now)
    partial_path(first).write_text("left by kill -9")
    assert auto_take_name(tmp_path, now=now) == tmp_path / "take-20240501-120000-2.take"


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    sys.path.insert(0, {tests!r})
    from takegen import pose_frames
    from arpose.record.take import TakeWriter, take_header
    w = TakeWriter(sys.argv[1], take_header(source="kill-test", fps=100.0))
    frames = pose_frames(np.zeros(1))
    print("started", flush=True)
    i = 0
    while True:
        pf = frames[0]
        pf = type(pf)(type(pf.frame)(pf.frame.image, time.time(), i), frames[0].people)
        w.write(pf)
        i += 1
        time.sleep(0.01)
""")


def test_kill_9_mid_take_keeps_every_frame_older_than_a_second(tmp_path):
    """The killed take stays as NAME.partial.take and opens as it is."""
    path = tmp_path / "killed.take"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent))
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout.readline().strip() == b"started"
        time.sleep(2.0)
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not path.exists() and sorted(tmp_path.iterdir()) == [tmp_path / "killed.partial.take"]
    with pytest.warns(TruncatedTakeWarning):
        take = read_take(tmp_path / "killed.partial.take")
    assert take.truncated
    idx = [f.index for f in take.frames]
    assert idx == list(range(len(idx))) and len(idx) > 20  # every frame, in order, none missing
    assert take.frames[-1].timestamp >= killed_at - 1.0
