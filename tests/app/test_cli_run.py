"""`arpose run` end to end on real media, and every bad input the foundation issue names."""

import subprocess
import sys

import numpy as np
import pytest

from arpose._cv import cv2
from arpose.app.cli import main
from arpose.record import CSV_COLUMNS, read_landmark_csv


def _count_frames(path):
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return n, fps


def test_run_video_writes_matching_video_and_csv(media, tmp_path):
    out, csv_path = tmp_path / "a.mp4", tmp_path / "l.csv"
    src = media / "videos" / "single_dance_woman.mp4"
    assert main(["run", str(src), "--out", str(out), "--csv", str(csv_path), "--no-progress"]) == 0
    n_in, fps_in = _count_frames(src)
    n_out, fps_out = _count_frames(out)
    assert n_out == n_in == 42 and fps_out == pytest.approx(fps_in)
    header = csv_path.read_text().splitlines()[0]
    assert header == ",".join(CSV_COLUMNS)
    rows = read_landmark_csv(csv_path)
    frames_with_person = {f for f, _ in rows}
    assert len(csv_path.read_text().splitlines()) - 1 == 33 * len(rows)
    assert len(frames_with_person) >= 0.9 * n_in
    t = [rows[k]["time_s"] for k in sorted(rows)]
    assert np.all(np.diff(t) > 0)
    rec = rows[min(rows)]
    xy = rec["landmarks"][:, :2]
    assert np.nanmax(xy) < 1.1 and np.nanmin(xy) > -0.1
    presence = rec["landmarks"][:, 4]  # the default LiteRT backend reports it (solutions.pose does not)
    assert np.all((presence >= 0) & (presence <= 1))


def test_run_folder_and_image(media, tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ("person_squat_pexels4384679.png", "neg_coffee.png"):
        cv2.imwrite(str(folder / name), cv2.imread(str(media / "images" / name)))
    csv_path = tmp_path / "f.csv"
    assert main(["run", str(folder), "--csv", str(csv_path), "--out", str(tmp_path / "f.mp4"), "--no-progress"]) == 0
    rows = read_landmark_csv(csv_path)
    # Only the person image (sorted first: neg_coffee is frame 0) gives rows; the negative none.
    assert sorted(rows) == [(1, 0)]
    assert _count_frames(tmp_path / "f.mp4")[0] == 2
    png = tmp_path / "one.png"
    assert (
        main(["run", str(media / "images" / "person_yoga_tree_pixabay.jpg"), "--out", str(png), "--no-progress"]) == 0
    )
    assert cv2.imread(str(png)).shape == (640, 426, 3)
    assert "1 frames, person in 1\n" in capsys.readouterr().err  # one frame has no rate (not "nan fps")


def _arpose(*args):
    return subprocess.run(
        [sys.executable, "-m", "arpose", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def _assert_one_line_error(proc, fragment):
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("arpose: error:") and fragment in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("missing.mp4", None, "input not found"),
        ("zero.mp4", b"", "input is empty (0 bytes)"),
        ("text.mp4", b"this is a text file, not a video\n", "cannot decode video"),
    ],
)
def test_bad_input_files_exit_2_with_one_line(tmp_path, name, content, fragment):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    _assert_one_line_error(_arpose("run", path, "--out", tmp_path / "o.mp4"), fragment)


def test_webcam_that_does_not_open_exits_2():
    _assert_one_line_error(_arpose("run", "99", "--no-progress"), "cannot open webcam 99")


@pytest.mark.slow
def test_unwritable_output_folder_exits_2(media, tmp_path):
    img = media / "images" / "person_squat_pexels4384679.png"
    _assert_one_line_error(_arpose("run", img, "--out", tmp_path / "nope" / "o.mp4"), "output folder does not exist")
    _assert_one_line_error(_arpose("run", img, "--csv", "/sys/o.csv"), "output folder is not writable")


@pytest.mark.slow
def test_truncated_video_exits_2_and_keeps_a_playable_video_of_the_frames_done(media, tmp_path):
    data = (media / "videos" / "single_armsup_oneleg.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    out, csv_path = tmp_path / "partial.mp4", tmp_path / "partial.csv"
    proc = _arpose("run", cut, "--out", out, "--csv", csv_path, "--no-progress")
    assert proc.returncode == 2 and "truncated" in proc.stderr and "Traceback" not in proc.stderr
    n_done, _ = _count_frames(out)
    assert 0 < n_done < 120
    assert len(read_landmark_csv(csv_path)) > 0


def test_existing_output_needs_force(media, tmp_path):
    img = media / "images" / "person_squat_pexels4384679.png"
    out = tmp_path / "o.csv"
    out.write_text("keep me")
    proc = _arpose("run", img, "--csv", out)
    _assert_one_line_error(proc, "use --force")
    assert out.read_text() == "keep me"


@pytest.mark.slow
def test_help_lists_run():
    proc = _arpose("--help")
    assert proc.returncode == 0 and "run" in proc.stdout
    proc = _arpose("run", "--help")
    assert proc.returncode == 0 and "--csv" in proc.stdout
