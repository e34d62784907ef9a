"""`arpose demo` and `arpose eval` end to end (short runs; the defaults are exercised by CI's README check)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from arpose._cv import cv2
from arpose.app.cli import main
from arpose.record import read_landmark_csv


@pytest.mark.slow
def test_demo_writes_every_output_into_its_folder(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--motion", "squat", "--seconds", "1", "--fps", "15", "--no-progress"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"demo.mp4", "landmarks.csv", "truth.csv"} <= names
    cap = cv2.VideoCapture(str(out / "demo.mp4"))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 15
    rows = read_landmark_csv(out / "landmarks.csv")
    assert len(rows) >= 14  # a person in (nearly) every frame
    with open(out / "truth.csv", newline="") as f:
        truth = list(csv.DictReader(f))
    assert len(truth) == 15 * 33 and truth[0]["name"] == "nose"
    err = capsys.readouterr().err
    assert "PCK@0.2" in err and "squat: 15 of 15 frames" in err
    # running again into a folder an earlier demo wrote stops, and changes nothing, without --force
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["demo", "--out", str(out), "--seconds", "0.2", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "earlier demo's results" in err[0] and "--force" in err[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["demo", "--out", str(out), "--seconds", "0.2", "--no-progress", "--force"]) == 0
    capsys.readouterr()
    # a foreign non-empty folder needs --force too
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    assert main(["demo", "--out", str(other), "--seconds", "0.2", "--no-progress"]) == 2
    assert "holds other files" in capsys.readouterr().err


def test_demo_bad_options_exit_2(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "x"), "--motion", "moonwalk", "--no-progress"]) == 2
    assert "unknown motion" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "x"), "--size", "big", "--no-progress"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "y"), "--motion", str(tmp_path / "none.bvh")]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_json_scores_the_tpose(tmp_path, capsys):
    plots = tmp_path / "plots"
    assert (
        main(
            [
                "eval",
                "--motion",
                "tpose",
                "--seconds",
                "1",
                "--fps",
                "15",
                "--variant",
                "blazepose",
                "--json",
                "--plot",
                str(plots),
                "--no-progress",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["variant"] for r in rows] == ["blazepose"]
    r = rows[0]
    assert r["motion"] == "tpose" and r["detected"] == 1.0 and r["pck@0.2"] >= 0.9
    assert 0 < r["median_px"] < 10 and 0 < r["mpjpe_pa_mm"] < 150
    assert r["jitter_gt"] == 0.0 and r["lag_frames"] is None  # nothing moves: no lag to measure
    assert sorted(p.suffix for p in plots.iterdir()) == [".png", ".png"]
    assert main(["eval", "--variant", "nope"]) == 2


@pytest.mark.slow
def test_eval_table_from_the_command_line():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "arpose",
            "eval",
            "--motion",
            "wave",
            "--seconds",
            "1",
            "--fps",
            "10",
            "--variant",
            "blazepose",
            "--variant",
            "pipeline",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n\n")[0].splitlines()  # the table; verdicts follow a blank line
    assert lines[0].split()[:4] == ["motion", "variant", "detected", "median"]
    assert [ln.split()[1] for ln in lines[2:]] == ["blazepose", "pipeline"]
    assert "props and snaps (pipeline)" in proc.stdout


@pytest.mark.slow
def test_eval_saves_arrays_that_reproduce_our_smoothing_offline_and_prints_the_verdict(tmp_path, capsys):
    import numpy as np

    from arpose.evaluate.smoothing import smooth_arrays

    folder = tmp_path / "arrays"
    assert (
        main(
            [
                "eval",
                "--motion",
                "wave",
                "--seconds",
                "1",
                "--fps",
                "15",
                "--variant",
                "blazepose",
                "--variant",
                "mediapipe-smoothed",
                "--variant",
                "one-euro",
                "--arrays",
                str(folder),
                "--no-progress",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "smoothing targets" in out and "met on: jitter" in out and "  wave " in out
    (npz,) = folder.iterdir()
    assert npz.name == "wave.npz"
    a = np.load(npz)
    assert a["t"].shape == (15,) and tuple(a["size"]) == (640, 480)
    assert a["truth.world"].shape == (15, 33, 3) and a["truth.px"].shape == (15, 33, 2)
    for name in ("blazepose", "mediapipe-smoothed", "one-euro"):
        assert a[f"{name}.image"].shape == (15, 33, 5) and a[f"{name}.world"].shape == (15, 33, 3)
    # The raw arrays replayed through our filter give exactly the one-euro row: offline tuning
    # scores the very thing `run` would output.
    image, world = smooth_arrays(a["blazepose.image"], a["blazepose.world"], a["t"], tuple(a["size"]))
    np.testing.assert_allclose(world, a["one-euro.world"], atol=1e-6)
    np.testing.assert_allclose(image, a["one-euro.image"], atol=1e-6)
    assert not np.allclose(world, a["blazepose.world"])


def test_eval_arrays_folder_that_cannot_be_made_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert (
        main(
            [
                "eval",
                "--motion",
                "tpose",
                "--seconds",
                "0.2",
                "--variant",
                "blazepose",
                "--arrays",
                str(blocker / "sub"),
                "--no-progress",
            ]
        )
        == 2
    )
    assert "cannot create arrays folder" in capsys.readouterr().err
