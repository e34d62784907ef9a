"""Output files: never an input, a file in place of a folder named as such, written under
NAME.partial.EXT and renamed into place, no file without frames, cut short kept as partial."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from arpose.errors import InputError, OutputError
from arpose.record import CSV_COLUMNS, CsvWriter, PendingOutput, check_writable, partial_path, read_landmark_csv
from arpose.record.bvh import read_bvh, write_text_atomic
from arpose.record.export import export_csv
from arpose.record.take import TakeWriter, read_take, take_header
from arpose.retarget import AnglesCsvWriter

sys.path.insert(0, str(Path(__file__).parent))  # the shared synthetic-take helper beside this file
from takegen import pose_frames  # noqa: E402


def test_partial_path_keeps_the_extension():
    assert partial_path("d/out.mp4") == Path("d/out.partial.mp4")
    assert partial_path("a.take") == Path("a.partial.take")
    assert partial_path("noext") == Path("noext.partial")


def test_an_input_is_never_an_output_even_with_force(tmp_path, monkeypatch):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"the user's only copy")
    os.symlink(clip, tmp_path / "link.mp4")
    os.link(clip, tmp_path / "hard.mp4")
    monkeypatch.chdir(tmp_path)
    for out in (clip, "clip.mp4", "./sub/../clip.mp4", tmp_path / "link.mp4", "hard.mp4"):
        for force in (False, True):
            with pytest.raises(OutputError, match=r"is an input of this run; choose another output name"):
                check_writable(out, force=force, inputs=[clip])
    # The .partial name written first must not be an input either.
    (tmp_path / "x.partial.csv").write_text("input")
    with pytest.raises(OutputError, match="is an input of this run"):
        CsvWriter(tmp_path / "x.csv", inputs=[tmp_path / "x.partial.csv"])
    assert clip.read_bytes() == b"the user's only copy"
    assert check_writable(tmp_path / "other.mp4", inputs=[clip]) == tmp_path / "other.mp4"


def test_a_file_in_place_of_a_folder_is_named(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("x")
    for out in (f / "o.mp4", f / "sub" / "o.mp4"):
        with pytest.raises(OutputError, match=r"notes.txt is a file, not a folder"):
            check_writable(out)
    with pytest.raises(OutputError, match=r"output folder does not exist: .*nope"):
        check_writable(tmp_path / "nope" / "o.mp4")
    with pytest.raises(OutputError, match="output is a folder"):
        check_writable(tmp_path)


def test_a_partial_file_left_by_a_killed_run_needs_force(tmp_path):
    left = tmp_path / "out.partial.csv"
    left.write_text("what the killed run saved")
    with pytest.raises(OutputError, match=r"out.partial.csv is left from an earlier run that stopped.*--force"):
        check_writable(tmp_path / "out.csv", force=False)
    assert check_writable(tmp_path / "out.csv", force=True) == tmp_path / "out.csv"
    assert left.read_text() == "what the killed run saved"


def test_pending_output_renames_on_finish_and_keeps_the_old_file_until_then(tmp_path):
    path = tmp_path / "o.txt"
    path.write_text("old")
    pending = PendingOutput(path, force=True)
    with pending.open() as fh:
        fh.write("new")
    assert path.read_text() == "old" and pending.temp.read_text() == "new"
    result = pending.finish(3)
    assert path.read_text() == "new" and not pending.temp.exists()
    assert result.kept and result.describe() == f"wrote {path} (3 frames)"
    assert pending.finish(0) is result  # idempotent


def test_csv_writers_without_frames_leave_nothing(tmp_path):
    for cls in (CsvWriter, AnglesCsvWriter):
        w = cls(tmp_path / "none.csv")
        result = w.close()
        assert not result.kept
    assert list(tmp_path.iterdir()) == []


def test_csv_frames_without_people_are_still_a_result(tmp_path):
    frames = pose_frames(np.arange(8) / 30.0)
    path = tmp_path / "l.csv"
    with CsvWriter(path) as w:
        for pf in frames:
            w.write(pf)
    assert w.result.frames == 8 and w.rows == 33 * sum(bool(pf.people) for pf in frames)
    assert sorted(read_landmark_csv(path)) == [(pf.index, 0) for pf in frames if pf.people]
    with CsvWriter(tmp_path / "empty.csv") as w:
        w.write(frames[3])  # the frame with nobody in it
    assert w.result.kept and (tmp_path / "empty.csv").read_text().strip() == ",".join(CSV_COLUMNS)


def test_csv_cut_short_keeps_its_rows_and_says_partial(tmp_path):
    path = tmp_path / "cut.csv"
    with pytest.raises(RuntimeError):
        with AnglesCsvWriter(path) as w:
            for pf in pose_frames(np.arange(3) / 30.0):
                w.write(pf)
            raise RuntimeError("the source failed")
    assert w.result.partial and w.result.frames == 3
    assert len(list(csv.reader(path.open()))) == 1 + 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.csv"]


def test_bvh_text_is_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / "t.bvh"
    text = "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n"
    text += " End Site\n {\n  OFFSET 0 1 0\n }\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n"
    assert write_text_atomic(path, text) == path
    assert read_bvh(path).num_frames == 1 and sorted(tmp_path.iterdir()) == [path]
    with pytest.raises(OutputError, match="exists"):
        write_text_atomic(path, "other", force=False)
    assert path.read_text() == text


def test_export_of_a_take_without_frames_is_an_input_error(tmp_path):
    take = tmp_path / "t.take"
    w = TakeWriter(take, take_header(fps=30.0))
    w.write(pose_frames([0.0])[0])
    w.close()
    data = take.read_bytes().split(b"\n")
    (tmp_path / "head.take").write_bytes(b"\n".join(data[:2]) + b"\n")  # header only
    with pytest.raises(InputError, match="holds no frames"):
        export_csv(read_take(tmp_path / "head.take", warn=False), tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()
