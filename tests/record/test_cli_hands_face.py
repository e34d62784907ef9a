"""`arpose run --hands --take --bvh --csv` on real media (the first 30 frames of the ASL
fingerspelling clip), and what `export` and `replay` make of such a take: the stored fingers,
hands and expressions, never solved again."""

from __future__ import annotations

import collections
import csv
import socket
import threading

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose._cv import cv2
from arpose.app.cli import main
from arpose.record.bvh import read_bvh
from arpose.record.csv_landmarks import hands_face_path
from arpose.record.take import read_take

VIDEO = "videos/hands_asl_fingerspelling_tfjs.mp4"  # 25 fps, 368x640, the subject's right hand
FRAMES = 30

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recorded(media, tmp_path_factory):
    """The clip's first 30 frames (a re-encoded copy in a temporary folder: arpose run has no
    frame limit), run once with --hands writing a take, a BVH and the CSVs."""
    d = tmp_path_factory.mktemp("hands_run")
    cap = cv2.VideoCapture(str(media / VIDEO))
    fps = cap.get(cv2.CAP_PROP_FPS)
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    out = cv2.VideoWriter(str(d / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(FRAMES):
        ok, image = cap.read()
        assert ok
        out.write(image)
    out.release()
    cap.release()
    args = ["run", str(d / "clip.mp4"), "--hands", "--take", str(d / "T.take"), "--bvh", str(d / "B.bvh")]
    assert main(args + ["--csv", str(d / "C.csv"), "--no-progress"]) == 0
    return d


def test_take_holds_the_hands_and_fingers(recorded):
    take = read_take(recorded / "T.take")
    assert len(take.frames) == FRAMES
    people = [f.people[0] for f in take.frames if f.people]
    right = [p for p in people if p.fingers is not None and p.fingers.seen[1]]
    assert len(right) >= 0.9 * FRAMES  # the right hand, seen on (nearly) every frame
    p = right[0]
    assert p.hands.dtype == np.float32 and np.isfinite(p.hands[1]).all() and np.isnan(p.hands[0]).all()
    assert p.raw_hands is not None and p.hands_world.shape == (2, 21, 3) and p.face is None
    # frames 0-8 are a fist (docs/hands_face.md): the right index is bent, its three joints by over 90 degrees
    idx = [sk.finger_bone_index(1, 1, j) for j in range(3)]
    fist = [f.people[0] for f in take.frames if f.index <= 8 and f.people and f.people[0].fingers.seen[1]]
    bent = [np.degrees(Rotation.from_quat(q.fingers.local_rotations[idx]).magnitude()).sum() for q in fist]
    assert len(fist) >= 8 and min(bent) > 90.0


def test_bvh_has_the_take_fingers(recorded):
    data = read_bvh(recorded / "B.bvh")
    assert set(sk.FINGER_BONE_NAMES) <= set(data.names) and len(data.joints) == sk.NUM_BONES + 30
    take = read_take(recorded / "T.take")
    # frames whose body pose is usable (a frame with no body has a NaN pose: the BVH interpolates it)
    usable = [
        f
        for f in take.frames
        if f.people and f.people[0].body is not None and np.isfinite(f.people[0].body.root_position).all()
    ]
    by_time = {
        round(f.timestamp, 4): f.people[0].fingers.local_rotations for f in usable if f.people[0].fingers.seen[1]
    }
    t0 = round(usable[0].timestamp, 4)
    checked = 0
    for k in range(data.num_frames):
        want = by_time.get(round(t0 + k * data.frame_time, 4))
        if want is None:
            continue
        for b in range(15, 30):  # the right hand's 15 bones, as recorded (ZXY degrees, 6 decimals)
            j = data.joints[data.index(sk.FINGER_BONE_NAMES[b])]
            got = Rotation.from_euler("ZXY", data.motion[k, j.channel_start : j.channel_start + 3], degrees=True)
            assert (got.inv() * Rotation.from_quat(want[b])).magnitude() < 1e-5
        checked += 1
    assert checked >= 0.7 * FRAMES
    # export --bvh of the take writes the same file as run --bvh
    assert main(["export", str(recorded / "T.take"), "--bvh", str(recorded / "E.bvh")]) == 0
    assert (recorded / "E.bvh").read_bytes() == (recorded / "B.bvh").read_bytes()


def test_csvs_hold_the_hand_and_export_equals_run(recorded):
    with open(hands_face_path(recorded / "C.csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    parts = collections.Counter(r["part"] for r in rows)
    assert parts["right_hand"] >= 0.9 * FRAMES * 21 and parts["left_hand"] == 0 and parts["face"] == 0
    assert all(r["world_x"] != "" for r in rows)
    # a frame whose person has no body writes no body rows: body rows are 33 per person with a body
    take = read_take(recorded / "T.take")
    with_body = sum(
        1
        for f in take.frames
        for p in f.people
        if not np.isnan(p.landmarks[:, :2]).all() or not np.isnan(p.world).all()
    )
    with open(recorded / "C.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 33 * with_body
    assert main(["export", str(recorded / "T.take"), "--csv", str(recorded / "E.csv")]) == 0
    assert (recorded / "E.csv").read_bytes() == (recorded / "C.csv").read_bytes()
    assert (recorded / "E.hands_face.csv").read_bytes() == hands_face_path(recorded / "C.csv").read_bytes()
    # nothing is overwritten without --force, the second CSV included
    (recorded / "F.hands_face.csv").write_text("keep")
    assert main(["export", str(recorded / "T.take"), "--csv", str(recorded / "F.csv")]) == 2
    assert not (recorded / "F.csv").exists() and (recorded / "F.hands_face.csv").read_text() == "keep"


def test_replay_sends_the_recorded_fingers(recorded):
    """replay --vmc of the take sends the right hand's finger bones (stored, not re-solved)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    got: list[bytes] = []
    done = threading.Event()

    def receive():
        while True:
            try:
                got.append(sock.recv(65536))
            except socket.timeout:
                if done.is_set():
                    return
            except OSError:
                return

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    try:
        port = sock.getsockname()[1]
        assert main(["replay", str(recorded / "T.take"), "--fast", "--vmc", f"127.0.0.1:{port}", "--no-progress"]) == 0
        done.set()
        thread.join(timeout=10)
    finally:
        sock.close()
    payload = b"".join(got)
    assert payload.count(b"RightIndexProximal") >= 0.9 * FRAMES
    assert b"LeftIndexProximal" not in payload  # the left hand was never seen: none sent
