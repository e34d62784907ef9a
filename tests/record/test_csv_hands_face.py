"""The hands and face CSV (issue 17): NAME.hands_face.csv beside --csv, its rows for known
arrays (unseen hand: no rows; expressions as weights), the body CSV byte for byte as before,
a person with no body writes no body rows, and the overwrite rules of every output."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from arpose.errors import OutputError
from arpose.record import CSV_COLUMNS, CsvWriter
from arpose.record.csv_landmarks import HANDS_FACE_COLUMNS, hands_face_path
from arpose.record.export import export_csv
from arpose.record.output import partial_path
from arpose.record.take import TakeWriter, read_take, take_header
from arpose.retarget.face import Expression
from arpose.types import Frame, PoseFrame

sys.path.insert(0, str(Path(__file__).parent))  # the shared synthetic-take helper beside this file
from takegen import hands_face_person, pose_frames  # noqa: E402

DATA = Path(__file__).parent / "data"


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _num(s):
    return float(s) if s != "" else np.nan


def _frame(i, people):
    return PoseFrame(Frame(np.zeros((240, 320, 3), np.uint8), i / 30.0, i), tuple(people))


def test_rows_hold_the_known_arrays(tmp_path):
    person = hands_face_person(0.1, pid=3)  # left hand seen, right hand all NaN
    path = tmp_path / "o.csv"
    with CsvWriter(path, hands_face=True) as w:
        w.write(_frame(3, [person]))
    hf = hands_face_path(path)
    assert hf == tmp_path / "o.hands_face.csv" and w.hands_face.result.kept
    with open(hf, newline="") as fh:
        assert tuple(next(csv.reader(fh))) == HANDS_FACE_COLUMNS
    rows = _rows(hf)
    parts = [r["part"] for r in rows]
    assert parts == ["left_hand"] * 21 + ["face"] * 478 + ["expression"] * 11  # no right_hand rows
    assert {(r["frame"], r["time_s"], r["person"]) for r in rows} == {("3", "0.100000", "3")}
    hand = rows[:21]
    assert [r["name"] for r in hand][:5] == ["wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip"]
    got = np.array([[_num(r[c]) for c in ("x", "y", "z", "visibility")] for r in hand])
    np.testing.assert_allclose(got, person.hands[0], rtol=1e-5)
    got_w = np.array([[_num(r[c]) for c in ("world_x", "world_y", "world_z")] for r in hand])
    np.testing.assert_allclose(got_w, person.hands_world[0], rtol=1e-5, atol=1e-9)
    face = rows[21 : 21 + 478]
    assert [int(r["index"]) for r in face] == list(range(478))
    assert face[1]["name"] == "nose_tip" and face[468]["name"] == "right_iris" and face[474]["name"] == "left_iris_1"
    got_f = np.array([[_num(r[c]) for c in ("x", "y", "z", "visibility")] for r in face])
    np.testing.assert_allclose(got_f, person.face, rtol=1e-5)
    assert all(r["world_x"] == "" and r["weight"] == "" for r in face)
    expr = rows[-11:]
    assert [r["name"] for r in expr] == [e.label for e in Expression]
    assert all(r["x"] == "" and r["visibility"] == "" for r in expr)
    np.testing.assert_allclose([float(r["weight"]) for r in expr], person.face_pose.expressions, rtol=1e-5)


def test_body_csv_bytes_are_unchanged(tmp_path):
    """``data/body_ef2b220.csv`` was written by commit ef2b220's CsvWriter from the same frames;
    the body CSV is byte-identical, with the second CSV on or off and hands on every person."""
    frames = pose_frames(np.arange(5) / 30.0, people=(0, 1))
    plain, with_hf = tmp_path / "plain.csv", tmp_path / "hf.csv"
    with CsvWriter(plain) as w:
        for pf in frames:
            w.write(pf)
    with CsvWriter(with_hf, hands_face=True) as w:
        for pf in frames:
            w.write(
                pf.with_people(
                    [
                        hands_face_person(pf.timestamp, p.id).with_(landmarks=p.landmarks, world=p.world)
                        for p in pf.people
                    ]
                )
            )
    want = (DATA / "body_ef2b220.csv").read_bytes()
    assert plain.read_bytes() == want and with_hf.read_bytes() == want
    with open(plain, newline="") as fh:
        assert tuple(next(csv.reader(fh))) == CSV_COLUMNS
    assert not hands_face_path(plain).exists() and hands_face_path(with_hf).exists()


def test_person_without_body_writes_hands_face_only(tmp_path):
    """The single-person path's person 0 with an all-NaN body (only a hand seen): no body rows,
    its hand rows in the second CSV; a person whose landmarks are only partly NaN keeps its 33."""
    nobody = hands_face_person(0.0).with_(
        landmarks=np.full((33, 5), np.nan, np.float32), world=np.full((33, 3), np.nan, np.float32), score=0.0
    )
    partly = hands_face_person(0.0, pid=1)  # landmarks 5-7 NaN, world 7 NaN
    path = tmp_path / "n.csv"
    with CsvWriter(path, hands_face=True) as w:
        w.write(_frame(0, [nobody]))
        w.write(_frame(1, [partly]))
    body = _rows(path)
    assert len(body) == 33 and {r["person"] for r in body} == {"1"}
    assert body[5]["x"] == "" and body[7]["world_x"] == ""  # NaN stays an empty field
    hf = _rows(hands_face_path(path))
    assert sum(r["person"] == "0" and r["part"] == "left_hand" for r in hf) == 21


def test_partial_names_and_overwrite_rules(tmp_path):
    path = tmp_path / "p.csv"
    w = CsvWriter(path, hands_face=True)
    w.write(_frame(0, [hands_face_person(0.0)]))
    assert partial_path(hands_face_path(path)).exists() and not hands_face_path(path).exists()
    w.close()
    assert hands_face_path(path).exists() and not partial_path(hands_face_path(path)).exists()
    # an existing NAME.hands_face.csv is never overwritten without force: by the writer ...
    with pytest.raises(OutputError, match="--force"):
        CsvWriter(tmp_path / "p.csv", force=False, hands_face=True)
    (tmp_path / "q.hands_face.csv").write_text("keep")
    with pytest.raises(OutputError, match="--force"):
        CsvWriter(tmp_path / "q.csv", force=False, hands_face=True)
    assert not (tmp_path / "q.csv").exists()
    # ... by the run's up-front check ...
    from arpose.build import check_outputs
    from arpose.spec import CsvOutput, EstimatorSpec, PipelineSpec

    spec = PipelineSpec(estimator=EstimatorSpec(hands=True)).with_output(CsvOutput(str(tmp_path / "q.csv")))
    with pytest.raises(OutputError, match="q.hands_face.csv"):
        check_outputs(spec)
    check_outputs(spec, force=True)
    body_only = PipelineSpec().with_output(CsvOutput(str(tmp_path / "q.csv")))
    check_outputs(body_only)  # without hands or face the second CSV is not made, so not checked
    # ... and by export, before it writes anything
    take_path = tmp_path / "h.take"
    with TakeWriter(take_path, take_header()) as tw:
        tw.write(_frame(0, [hands_face_person(0.0)]))
    take = read_take(take_path)
    with pytest.raises(OutputError, match="q.hands_face.csv"):
        export_csv(take, tmp_path / "q.csv")
    assert not (tmp_path / "q.csv").exists() and (tmp_path / "q.hands_face.csv").read_text() == "keep"
    path, rows, apath, hpath = export_csv(take, tmp_path / "q.csv", force=True)
    assert rows == 33 and hpath == tmp_path / "q.hands_face.csv" and apath == tmp_path / "q.angles.csv"
    assert len(_rows(hpath)) == 21 + 478 + 11


def test_export_of_a_hands_take_equals_the_run_csv(tmp_path):
    """export --csv of a take gives the same two files as the writer given the frames live."""
    frames = [
        _frame(i, [hands_face_person(i / 30.0, 0), hands_face_person(i / 30.0, 1, right_seen=True)]) for i in range(4)
    ]
    live = tmp_path / "live.csv"
    with CsvWriter(live, hands_face=True) as w, TakeWriter(tmp_path / "t.take", take_header()) as tw:
        for pf in frames:
            w.write(pf)
            tw.write(pf)
    _, _, _, hpath = export_csv(read_take(tmp_path / "t.take"), tmp_path / "exp.csv")
    assert (tmp_path / "exp.csv").read_bytes() == live.read_bytes()
    assert hpath.read_bytes() == hands_face_path(live).read_bytes()
    assert sum(r["part"] == "right_hand" for r in _rows(hpath)) == 4 * 21  # person 1's right hand
