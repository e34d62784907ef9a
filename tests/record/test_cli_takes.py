"""`arpose run --take/--bvh`, `arpose export`, `arpose replay` end to end on real media, and
their bad inputs (exit 2 with a one-line message; nothing overwritten without --force)."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from arpose._cv import cv2
from arpose.app import feat_take
from arpose.app.cli import main
from arpose.app.cmd_replay import ReplayStats, paced
from arpose.build import build_pipeline
from arpose.pipeline import Pipeline
from arpose.record import CSV_COLUMNS
from arpose.record.bvh import bvh_fk, read_bvh
from arpose.record.export import ANGLE_COLUMNS
from arpose.record.output import partial_path
from arpose.record.take import TakeRecorder, read_take
from arpose.spec import PipelineSpec
from arpose.types import Camera

sys.path.insert(0, str(Path(__file__).parent))  # the shared synthetic-take helper beside this file
from takegen import pose_frames  # noqa: E402

VIDEO = "videos/single_dance_woman.mp4"  # 42 frames, 10 fps, one person


@pytest.fixture(scope="module")
def recorded(media, tmp_path_factory):
    """One real run writing a take, a BVH and a CSV at once."""
    d = tmp_path_factory.mktemp("run")
    code = main(
        [
            "run",
            str(media / VIDEO),
            "--take",
            str(d / "a.take"),
            "--bvh",
            str(d / "run.bvh"),
            "--csv",
            str(d / "run.csv"),
            "--no-progress",
        ]
    )
    assert code == 0
    return d


def test_run_take_holds_every_frame_and_field(recorded):
    take = read_take(recorded / "a.take")
    assert not take.truncated and len(take.frames) == 42
    assert take.header["command"] == "run" and take.header["source"]["name"] == "single_dance_woman.mp4"
    assert take.resolution == (400, 244) and take.fps == pytest.approx(10.0)
    assert take.camera.width == 400
    p = take.frames[20].people[0]
    assert p.landmarks.shape == (33, 5) and p.world.shape == (33, 3)
    assert p.raw_landmarks is not None and not np.array_equal(p.raw_landmarks, p.landmarks)  # smoothed
    assert p.body is not None and p.body.positions.shape == (22, 3)
    assert p.angles and "left_elbow" in p.angles


def test_export_csv_equals_run_csv(recorded):
    out = recorded / "export.csv"
    assert main(["export", str(recorded / "a.take"), "--csv", str(out)]) == 0
    assert out.read_bytes() == (recorded / "run.csv").read_bytes()
    assert out.read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
    angles = (recorded / "export.angles.csv").read_text().splitlines()
    assert angles[0] == ",".join(ANGLE_COLUMNS) and len(angles) > 42


def test_export_bvh_round_trips_the_take(recorded):
    out = recorded / "export.bvh"
    assert main(["export", str(recorded / "a.take"), "--bvh", str(out)]) == 0
    assert out.read_bytes() == (recorded / "run.bvh").read_bytes()  # run --bvh writes the same file
    take = read_take(recorded / "a.take")
    data = read_bvh(out)
    assert data.num_frames == 42 and data.frame_time == pytest.approx(0.1)
    pos, _ = bvh_fk(data)
    bodies = [f.people[0].body for f in take.frames]
    final = bodies[-1].offsets
    settled = [k for k, b in enumerate(bodies) if np.allclose(b.offsets, final, atol=1e-9)]
    assert len(settled) >= 10  # the per-person calibration settles in the first seconds
    for k in settled:
        assert np.max(np.abs(pos[k] - bodies[k].positions)) < 1e-3


def test_export_bvh_fps_resamples(recorded):
    out = recorded / "x25.bvh"
    assert main(["export", str(recorded / "a.take"), "--bvh", str(out), "--fps", "25"]) == 0
    data = read_bvh(out)
    assert data.frame_time == pytest.approx(0.04) and data.num_frames == int(4.1 * 25) + 1


def test_replay_osc_and_vmc_reach_a_receiver(recorded):
    import threading

    socks, got, threads = [], [[], []], []
    done = threading.Event()  # set once replay returned: then stop at the first quiet 0.5 s
    for k in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.5)
        socks.append(s)

        def receive(sock=s, out=got[k]):
            while True:
                try:
                    out.append(sock.recv(65536))
                except socket.timeout:
                    if done.is_set():
                        return
                except OSError:
                    return

        threads.append(threading.Thread(target=receive, daemon=True))
        threads[-1].start()
    osc_port, vmc_port = socks[0].getsockname()[1], socks[1].getsockname()[1]
    try:
        assert (
            main(
                [
                    "replay",
                    str(recorded / "a.take"),
                    "--fast",
                    "--osc",
                    f"127.0.0.1:{osc_port}",
                    "--vmc",
                    f"127.0.0.1:{vmc_port}",
                ]
            )
            == 0
        )
        done.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        for s in socks:
            s.close()
    osc, vmc = got[0], b"".join(got[1])
    assert len(osc) >= 42 and all(d.startswith(b"#bundle") for d in osc)  # one bundle per frame (or more)
    assert b"/VMC/Ext/Bone/Pos" in vmc and b"LeftUpperArm" in vmc and b"/VMC/Ext/Root/Pos" in vmc


def test_replay_overlay_on_the_source_video(recorded, media):
    out = recorded / "overlay.mp4"
    assert main(["replay", str(recorded / "a.take"), "--fast", "--out", str(out), "--video", str(media / VIDEO)]) == 0
    cap = cv2.VideoCapture(str(out))
    n = 0
    ok, first = cap.read()
    while ok:
        n += 1
        ok, _ = cap.read()
    cap.release()
    assert n == 42 and first.shape == (244, 400, 3)
    src = cv2.VideoCapture(str(media / VIDEO)).read()[1]
    assert np.mean(np.abs(first.astype(int) - src.astype(int))) < 20  # drawn over the video, not black
    # The AR overlay options work on a replay too (the take keeps the camera intrinsics).
    props = recorded / "props.mp4"
    assert (
        main(
            [
                "replay",
                str(recorded / "a.take"),
                "--fast",
                "--out",
                str(props),
                "--video",
                str(media / VIDEO),
                "--avatar",
            ]
        )
        == 0
    )
    with_avatar = cv2.VideoCapture(str(props)).read()[1]
    assert np.mean(np.any(np.abs(with_avatar.astype(int) - first.astype(int)) > 40, axis=2)) > 0.01


def test_realtime_pacing_follows_recorded_times():
    now = [100.0]
    waits = []

    def sleep(s):
        waits.append(s)
        now[0] += s

    frames = pose_frames([0.0, 0.1, 0.25, 0.3])
    stats = ReplayStats()
    out = list(paced(frames, True, clock=lambda: now[0], sleep=sleep, stats=stats))
    assert len(out) == 4
    np.testing.assert_allclose(waits, [0.1, 0.15, 0.05])
    assert list(paced(frames, False, clock=lambda: now[0], sleep=sleep)) == frames and len(waits) == 3


def _err(capsys):
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_bad_inputs_exit_2_with_message(recorded, tmp_path, media, capsys):
    take = str(recorded / "a.take")
    cases = [
        (["export", str(tmp_path / "nope.take"), "--csv", str(tmp_path / "o.csv")], "take not found"),
        (["export", str(media / "bvh" / "cmu_12_03_walk_120fps.bvh"), "--csv", str(tmp_path / "o.csv")], "BVH file"),
        (["export", str(recorded / "run.csv"), "--bvh", str(tmp_path / "o.bvh")], "landmark CSV"),
        (["export", str(media / VIDEO), "--bvh", str(tmp_path / "o.bvh")], "does not start with 'ARPOSE-TAKE'"),
        (["export", take], "nothing to export"),
        (["export", take, "--bvh", str(tmp_path / "o.bvh"), "--person", "7"], "has no person 7"),
        (["export", take, "--bvh", str(tmp_path / "o.bvh"), "--fps", "0"], "--fps"),
        (["export", take, "--csv", str(tmp_path / "missing" / "o.csv")], "folder does not exist"),
        (["run", str(media / VIDEO), "--bvh", str(tmp_path / "o.bvh"), "--no-retarget"], "drop --no-retarget"),
        (["run", str(media / VIDEO), "--bvh-person", "1"], "--bvh-person needs --bvh"),
        (["replay", take], "nothing to replay to"),
        (["replay", take, "--video", str(media / VIDEO)], "give --out"),
        (["replay", take, "--osc", "no such host:1"], "--osc"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        line = _err(capsys)
        assert line.startswith("arpose: error:") and message in line, (argv, line)
    assert not (tmp_path / "o.bvh").exists() and not (tmp_path / "o.csv").exists()


def test_nothing_is_overwritten_without_force(recorded, tmp_path, media, capsys):
    take = str(recorded / "a.take")
    for opt, name in (("--bvh", "k.bvh"), ("--csv", "k.csv")):
        target = tmp_path / name
        target.write_text("keep me")
        assert main(["export", take, opt, str(target)]) == 2
        assert "--force" in _err(capsys) and target.read_text() == "keep me"
        assert main(["export", take, opt, str(target), "--force"]) == 0
        assert target.read_text() != "keep me"
    existing = tmp_path / "k.take"
    existing.write_text("keep me")
    assert (
        main(["run", str(media / "images" / "person_yoga_tree_pixabay.jpg"), "--take", str(existing), "--no-progress"])
        == 2
    )
    assert "--force" in _err(capsys) and existing.read_text() == "keep me"
    overlay = tmp_path / "k.mp4"
    overlay.write_text("keep me")
    assert main(["replay", take, "--fast", "--out", str(overlay)]) == 2
    assert overlay.read_text() == "keep me"


def test_truncated_and_corrupt_takes_on_the_command_line(recorded, tmp_path, capsys):
    lines = (recorded / "a.take").read_bytes().split(b"\n")
    cut = tmp_path / "cut.take"
    cut.write_bytes(b"\n".join(lines[:22]) + b"\n" + lines[22][:100])  # killed mid-record
    assert main(["export", str(cut), "--csv", str(tmp_path / "cut.csv")]) == 0
    err = capsys.readouterr().err
    assert "arpose: warning:" in err and "truncated" in err and "20 complete frames" in err
    bad = tmp_path / "bad.take"
    damaged = list(lines)
    damaged[10] = damaged[10][:50] + b"X" + damaged[10][51:]
    bad.write_bytes(b"\n".join(damaged))
    assert main(["export", str(bad), "--csv", str(tmp_path / "bad.csv")]) == 2
    assert "--salvage" in _err(capsys)
    assert main(["export", str(bad), "--csv", str(tmp_path / "bad.csv"), "--salvage"]) == 0
    assert "skipped 1 damaged" in capsys.readouterr().err


def test_live_recorder_toggles_takes(tmp_path):
    """The live command's take output: a recorder, idle until the record key, automatic names in --take-dir."""
    parser = argparse.ArgumentParser()
    feat_take.add_options(parser)
    feat_take.add_recorder_options(parser)
    args = parser.parse_args(["--take-dir", str(tmp_path)])
    spec = feat_take.apply(args, PipelineSpec(), recorder=True)

    class Src:
        name, kind, size, fps = "camera 0", "camera", (320, 240), 30.0

    built = build_pipeline(spec, Src(), Camera.from_fov(320, 240), analysed=True, take_header={"command": "live"})
    sinks = built.sinks
    assert len(sinks) == 1 and isinstance(sinks[0], TakeRecorder) and not sinks[0].recording
    pipeline = Pipeline(None, sinks=sinks)
    frames = pose_frames(np.arange(12) / 30.0)
    pipeline.emit(frames[0])
    msg = feat_take.toggle_take(pipeline, args.take_dir)
    assert msg.startswith("recording ") and str(tmp_path) in msg
    for pf in frames[1:11]:
        pipeline.emit(pf)
    msg = feat_take.toggle_take(pipeline, args.take_dir)
    assert msg.startswith("saved ") and "(10 frames)" in msg
    pipeline.emit(frames[11])
    pipeline.close()
    (path,) = tmp_path.glob("take-*.take")
    take = read_take(path)
    assert [f.index for f in take.frames] == list(range(1, 11)) and take.header["command"] == "live"


def test_blender_imports_a_real_run(recorded):
    """The BVH of a real run in Blender's own importer: bone heads at the take's joint
    positions (frames after the calibration settled), Y-up mapped to Blender's Z-up."""
    bpy = pytest.importorskip(
        "bpy", reason="bpy (Blender as a Python module) is not installed: pip install 'arpose[test]' on Python 3.11"
    )
    from arpose import skeleton as sk

    take = read_take(recorded / "a.take")
    bodies = [f.people[0].body for f in take.frames]
    settled = [k for k, b in enumerate(bodies) if np.allclose(b.offsets, bodies[-1].offsets, atol=1e-9)]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    assert bpy.ops.import_anim.bvh(filepath=str(recorded / "run.bvh")) == {"FINISHED"}
    arm = next(o for o in bpy.data.objects if o.type == "ARMATURE")
    to_blender = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    worst = 0.0
    for k in settled[:: max(1, len(settled) // 5)]:
        bpy.context.scene.frame_set(k + 1)
        for name in sk.BONE_NAMES:
            head = np.array(arm.matrix_world @ arm.pose.bones[name].head)
            worst = max(worst, np.max(np.abs(head - to_blender @ bodies[k].positions[sk.BONE_INDEX[name]])))
    assert worst < 1e-3


@pytest.mark.slow
def test_kill_9_during_arpose_demo_take(tmp_path):
    """The whole app, killed with SIGKILL mid-run: the take, left as demo.partial.take, holds
    every frame that was on disk a second before the kill (the sink writes as it goes) and opens
    with a warning; the annotated video, left as demo.partial.mp4, plays in PyAV and OpenCV."""
    import os
    import signal
    import subprocess
    import time

    import av

    take = tmp_path / "demo.take"
    writing = partial_path(take)  # the name it has until a clean close
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arpose",
            "demo",
            "--out",
            str(tmp_path / "demo"),
            "--seconds",
            "120",
            "--take",
            str(take),
            "--no-progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )

    def complete_frames() -> int:
        data = writing.read_bytes() if writing.exists() else b""
        return max(0, data.count(b"\n") - 2)  # the magic and header lines

    try:
        deadline = time.monotonic() + 120
        while complete_frames() < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        seen = complete_frames()
        assert seen >= 10, "the take did not grow while the demo ran"
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not take.exists()
    with pytest.warns(Warning, match="truncated"):
        t = read_take(writing)
    idx = [f.index for f in t.frames]
    assert idx == list(range(len(idx))) and len(idx) >= seen
    video = tmp_path / "demo" / "demo.partial.mp4"
    with av.open(str(video)) as c:
        decoded = sum(1 for _ in c.decode(video=0))
    cap = cv2.VideoCapture(str(video))
    read = 0
    while cap.read()[0]:
        read += 1
    cap.release()
    assert decoded == read >= 1
