"""Takes with hands and face (issue 17): bit-exact round trip of the hand and face arrays,
fingers and face pose (NaN for the unseen hand kept), and a take written by the arpose before
them still reads."""

from __future__ import annotations

import dataclasses
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from arpose.record.take import TakeWriter, decode_record, read_take, take_header
from arpose.types import Frame, PoseFrame

sys.path.insert(0, str(Path(__file__).parent))  # the shared synthetic-take helper beside this file
from takegen import CAMERA, hands_face_person  # noqa: E402

DATA = Path(__file__).parent / "data"
ARRAYS = ("hands", "hands_world", "face", "raw_hands", "raw_hands_world", "raw_face")


def _same(a, b, where):
    """Equal values of the same type: arrays bit-exact (dtype, shape, bytes), NaN scalars NaN."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), where
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{k}]")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert a == b and type(a) is type(b), where


def _frames(n=6):
    img = np.zeros((240, 320, 3), np.uint8)
    out = []
    for i in range(n):
        t = i / 30.0
        people = (hands_face_person(t, 0), hands_face_person(t, 1, right_seen=True, body=False))
        out.append(PoseFrame(Frame(img, t, i), people))
    return out


def test_hands_face_round_trip_is_bit_exact(tmp_path):
    frames = _frames()
    path = tmp_path / "hf.take"
    with TakeWriter(path, take_header(source="synthetic", resolution=(320, 240), fps=30.0, camera=CAMERA)) as w:
        for pf in frames:
            w.write(pf)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        take = read_take(path)
    assert take.header["version"] == 1 and len(take.frames) == len(frames)
    for pf, tf in zip(frames, take.frames):
        for a, b in zip(pf.people, tf.people, strict=True):
            for name in ARRAYS:
                arr = getattr(b, name)
                assert arr.dtype == np.float32
                _same(getattr(a, name), arr, name)
            _same(a.fingers, b.fingers, "fingers")
            _same(a.face_pose, b.face_pose, "face_pose")
            _same(a.body, b.body, "body")
    p0 = take.frames[0].people[0]
    assert np.isnan(p0.hands[1]).all() and np.isnan(p0.hands_world[1]).all()  # the unseen right hand
    assert p0.fingers.hands[1] is None and p0.fingers.seen.tolist() == [True, False]
    assert (
        p0.fingers.hands[0].side.label == "left"
        and p0.face_pose.features.smile_lift != p0.face_pose.features.smile_lift
    )
    assert take.frames[0].people[1].body is None and take.frames[0].people[1].fingers.hands[1] is not None


def test_body_only_people_store_no_hand_keys(tmp_path):
    """A person without hands / face has no such keys in the file (absent, never zeros)."""
    pf = _frames(1)[0]
    plain = pf.with_people(
        [
            p.with_(
                hands=None,
                hands_world=None,
                face=None,
                raw_hands=None,
                raw_hands_world=None,
                raw_face=None,
                fingers=None,
                face_pose=None,
            )
            for p in pf.people
        ]
    )
    path = tmp_path / "b.take"
    with TakeWriter(path, take_header()) as w:
        w.write(plain)
    rec = decode_record(path.read_bytes().split(b"\n")[2])
    for person in rec["people"]:
        assert not set(person) & {*ARRAYS, "fingers", "face_pose"}
    back = read_take(path).frames[0].people[0]
    assert back.hands is None and back.fingers is None and back.face_pose is None


def test_take_written_before_hands_and_face_still_reads():
    """``data/v1_body_only.take`` was written by the take writer of commit ef2b220 (before this
    change, same synthetic frames as takegen.pose_frames): it reads, with no hand fields."""
    take = read_take(DATA / "v1_body_only.take")
    assert not take.truncated and take.header["arpose_version"] == "0.1.0"
    assert [f.index for f in take.frames] == [0, 1, 2]
    p = take.frames[0].people[0]
    assert p.landmarks.shape == (33, 5) and p.body is not None and p.angles["left_elbow"] == pytest.approx(90.0)
    assert p.hands is None and p.face is None and p.fingers is None and p.face_pose is None
    # and the new reader gives exactly what the writer was given
    from takegen import pose_frames

    want = pose_frames(np.arange(3) / 30.0, people=(0,))[0].people[0]
    _same(want.landmarks, p.landmarks, "landmarks")
    _same(want.body.local_rotations, p.body.local_rotations, "body")


def test_damaged_hand_records_are_input_errors(tmp_path):
    """A hand array of the wrong shape or a fingers record that is not one is a damaged record
    (InputError naming the line), never a crash."""
    from arpose.errors import InputError
    from arpose.record.take import encode_person, encode_record

    person = encode_person(hands_face_person(0.0))
    bad_shape = dict(person, hands=dict(person["hands"], shape=[2, 21, 3]))
    bad_fingers = dict(person, fingers={"seen": 1})
    for i, bad in enumerate((bad_shape, bad_fingers)):
        path = tmp_path / f"bad{i}.take"
        head = encode_record(take_header())
        frame = encode_record({"type": "frame", "index": 0, "t": 0.0, "people": [bad]})
        path.write_bytes(b"ARPOSE-TAKE 1\n" + head + frame + encode_record({"type": "end", "frames": 1}))
        with pytest.raises(InputError, match="line 3"):
            read_take(path)
    assert json.dumps(person)  # the record is plain JSON
