"""`arpose run --angles` and the retargeting options, end to end on real media."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from arpose.app.cli import main
from arpose.retarget import ANGLE_NAMES


def test_run_writes_joint_angles_for_a_real_arms_up_image(media, tmp_path, capsys):
    path = tmp_path / "angles.csv"
    img = media / "images" / "person_arms_up_frame045.png"  # arms raised overhead, standing on one leg
    assert main(["run", str(img), "--angles", str(path), "--retarget-stats", "--no-progress"]) == 0
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["frame", "time_s", "person", *ANGLE_NAMES] and len(rows) == 1
    a = {k: float(v) for k, v in rows[0].items() if k in ANGLE_NAMES and v != ""}
    assert a["left_shoulder"] > 120 and a["right_shoulder"] > 120  # arms overhead
    assert a["spine_bend"] < 30
    assert "retarget: root fit" in capsys.readouterr().err


@pytest.mark.slow
def test_angles_over_a_squat_video_follow_the_squats(media, tmp_path):
    path = tmp_path / "angles.csv"
    assert main(["run", str(media / "videos" / "single_squats_5fps.mp4"), "--angles", str(path), "--no-progress"]) == 0
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 65
    knee = np.array([float(r["left_knee"]) for r in rows if r["left_knee"]])
    assert knee.max() > 150 and knee.min() < 100  # standing straight and squatting deep
    assert np.all(np.diff([float(r["time_s"]) for r in rows]) > 0)


def _arpose(*args):
    return subprocess.run(
        [sys.executable, "-m", "arpose", *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra, fragment",
    [
        (("--no-retarget",), "--angles needs retargeting"),
        (("--angles", "/nonexistent-folder/a.csv"), "output folder does not exist"),
    ],
)
def test_bad_retarget_options_are_one_line_errors(media, tmp_path, extra, fragment):
    args = ["run", media / "images" / "person_arms_up_frame045.png", "--no-progress"]
    if extra[0] == "--no-retarget":
        args += ["--angles", tmp_path / "a.csv"]
    proc = _arpose(*args, *extra)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("arpose: error:") and fragment in lines[0], proc.stderr
