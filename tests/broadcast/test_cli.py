"""`arpose run --osc/--vmc` end to end on real media: the stream received on loopback matches the
run's landmark CSV; a receiver that is down changes nothing; bad addresses exit 2."""

import subprocess
import sys

import numpy as np
import pytest

from arpose.app.cli import main
from arpose.record import read_landmark_csv

CLIP = ("videos", "single_dance_woman.mp4")  # 42 frames


@pytest.mark.slow
def test_stream_matches_take_and_receiver_down_changes_nothing(media, tmp_path, receiver, free_port, capsys):
    src = media.joinpath(*CLIP)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    # Run A: raw stream to a live receiver and VMC to a port nobody listens on.
    assert (
        main(
            [
                "run",
                str(src),
                "--csv",
                str(a),
                "--no-progress",
                "--osc",
                f"127.0.0.1:{receiver.port}",
                "--vmc",
                f"127.0.0.1:{free_port}",
                "--smooth",
                "causal",  # file outputs are zero-lag smoothed by default; causal: what the stream sends
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert f"--osc 127.0.0.1:{receiver.port}: 42 frames" in err and f"--vmc 127.0.0.1:{free_port}: 42 frames" in err
    # Run B: no broadcast at all. Same landmarks, byte for byte.
    assert main(["run", str(src), "--csv", str(b), "--no-progress", "--smooth", "causal"]) == 0
    assert a.read_bytes() == b.read_bytes()

    rows = read_landmark_csv(a)
    got = receiver.wait_for(42 * 2)
    frames = {}
    current = None
    for address, args in got:
        if address == "/arpose/frame":
            current = frames.setdefault(args[0], {"t": args[1], "n": args[2], "world": {}, "lm": {}, "vis": {}})
        elif address == "/arpose/person/world":
            current["world"][args[0]] = np.array(args[1:]).reshape(33, 3)
        elif address == "/arpose/person/landmarks":
            current["lm"][args[0]] = np.array(args[1:]).reshape(33, 3)
        elif address == "/arpose/person/visibility":
            current["vis"][args[0]] = np.array(args[1:])
    assert sorted(frames) == list(range(42))
    assert {f for f, _ in rows} == {i for i, fr in frames.items() if fr["n"] > 0}
    for (fi, pid), rec in rows.items():
        fr = frames[fi]
        assert fr["t"] == pytest.approx(rec["time_s"], abs=1e-5)
        np.testing.assert_allclose(fr["world"][pid], rec["world"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fr["lm"][pid], rec["landmarks"][:, :3], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fr["vis"][pid], rec["landmarks"][:, 3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "option, value, fragment",
    [
        ("--vmc", "127.0.0.1:99999", "--vmc: port 99999 in '127.0.0.1:99999' is out of range"),
        ("--osc", "127.0.0.1:abc", "--osc: port 'abc' in '127.0.0.1:abc' is not a number"),
        ("--osc", "no-such-host.invalid:9000", "--osc: cannot resolve host 'no-such-host.invalid'"),
        ("--osc-rate", "0", "--osc-rate must be a positive number"),
    ],
)
def test_bad_address_exits_2(media, capsys, option, value, fragment):
    src = media / "images" / "person_yoga_tree_pixabay.jpg"
    extra = ["--osc", "127.0.0.1:9000"] if option == "--osc-rate" else []
    assert main(["run", str(src), "--no-progress", option, value, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("arpose: error:") and fragment in err[0]


@pytest.mark.slow
def test_bad_address_one_line_error_from_the_shell(media):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "arpose",
            "run",
            str(media / "images" / "person_yoga_tree_pixabay.jpg"),
            "--no-progress",
            "--vmc",
            "localhost:",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == ["arpose: error: --vmc: missing port in 'localhost:'; give HOST:PORT, e.g. 127.0.0.1:9000"]


def test_blender_addon_command(tmp_path, capsys):
    from arpose.app.cmd_blender import ADDON_PATH

    out = tmp_path / "recv.py"
    assert main(["blender-addon", "--out", str(out)]) == 0
    assert out.read_bytes() == ADDON_PATH.read_bytes() and b"bl_info" in out.read_bytes()
    assert main(["blender-addon", "--out", str(out)]) == 2  # exists without --force
    assert "output exists" in capsys.readouterr().err
    assert main(["blender-addon", "--out", str(out), "--force"]) == 0
    assert main(["blender-addon", "--out", str(tmp_path / "recv.txt")]) == 2
    capsys.readouterr()
    assert main(["blender-addon"]) == 0
    assert capsys.readouterr().out.strip() == str(ADDON_PATH)


@pytest.mark.slow
def test_vmc_from_real_video_raises_the_avatars_arms(media, receiver, capsys, vmc_tools):
    """single_armsup_oneleg: arms hang down at the start, are raised overhead around 1.5-2.3 s.
    The avatar rebuilt from the received VMC transforms (Unity frame) does the same, with its
    left arm on its own left (Unity -X)."""
    src = media / "videos" / "single_armsup_oneleg.mp4"  # 120 frames at 30 fps
    assert main(["run", str(src), "--no-progress", "--vmc", f"127.0.0.1:{receiver.port}"]) == 0
    assert "0 dropped" in capsys.readouterr().err
    # the first half second (15 frames) is status only, calibrating, until the body settles
    frames = vmc_tools.frames_of(receiver.wait_for(105 * 25 + 15 * 2))
    assert len(frames) == 120 and all(len(f) == 2 for f in frames[:15]) and all(len(f) == 25 for f in frames[15:])

    def upper_arm_dirs(frame):
        gp, _ = vmc_tools.unity_fk(frame)
        return [
            (gp[f"{s}LowerArm"] - gp[f"{s}UpperArm"]) / np.linalg.norm(gp[f"{s}LowerArm"] - gp[f"{s}UpperArm"])
            for s in ("Left", "Right")
        ]

    down = np.array([upper_arm_dirs(f) for f in frames[15:35]])  # (20, 2, 3)
    up = np.array([upper_arm_dirs(f) for f in frames[45:70]])
    assert np.median(down[:, :, 1]) < -0.7 and np.median(up[:, :, 1]) > 0.6
    assert np.median(down[:, 0, 0]) < -0.2 and np.median(down[:, 1, 0]) > 0.2  # left arm on the avatar's left


@pytest.mark.slow
def test_vmc_from_demo_performer_matches_ground_truth(tmp_path, receiver, vmc_tools):
    """The synthetic performer (jumping jacks, 1 s): limb directions of the avatar rebuilt from
    the received VMC (Unity frame) against the performer's true joints with X mirrored. A
    mirrored or left/right-swapped stream would be off by far more than estimation error."""
    from arpose.performer import PerformerSource
    from arpose.skeleton import BONE_INDEX

    assert (
        main(
            [
                "demo",
                "--motion",
                "jumping_jack",
                "--seconds",
                "1",
                "--out",
                str(tmp_path / "demo"),
                "--no-progress",
                "--vmc",
                f"127.0.0.1:{receiver.port}",
            ]
        )
        == 0
    )
    frames = vmc_tools.frames_of(receiver.wait_for(15 * 25 + 15 * 2))
    truth = PerformerSource("jumping_jack", seconds=1).truth
    assert len(frames) == len(truth) == 30
    assert all(len(f) == 2 for f in frames[:15])  # the first half second: calibrating, no pose
    segments = [
        (f"{s}{a}", f"{s}{b}")
        for s in ("Left", "Right")
        for a, b in (("UpperArm", "LowerArm"), ("LowerArm", "Hand"), ("UpperLeg", "LowerLeg"), ("LowerLeg", "Foot"))
    ]
    errors = {seg: [] for seg in segments}
    for k, frame in list(enumerate(frames))[15:]:
        gp, _ = vmc_tools.unity_fk(frame)
        true_unity = truth.joint_positions[k] * [-1.0, 1.0, 1.0]
        for a, b in segments:
            u = (gp[b] - gp[a]) / np.linalg.norm(gp[b] - gp[a])
            v = true_unity[BONE_INDEX[b]] - true_unity[BONE_INDEX[a]]
            errors[(a, b)].append(np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(v), -1, 1))))
    medians = {seg: float(np.median(e)) for seg, e in errors.items()}
    assert np.median(np.concatenate(list(errors.values()))) < 20.0, medians
    assert max(medians.values()) < 30.0, medians
