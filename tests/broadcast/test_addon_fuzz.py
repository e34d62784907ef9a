"""The Blender add-on's receiver under random and mutated datagrams: ``parse_packet`` raises
only its own ``OscError``, what it returns never breaks the pose state (fingers, eyes and
expressions included), the armature solve or the shape-key matching,
and ``UdpReceiver.poll`` never raises, counts every bad datagram and keeps receiving.
Real datagrams come from arpose's own VMC and raw OSC encoders. Seeded and time-bounded."""

from __future__ import annotations

import random
import socket
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation as R

from arpose.broadcast.osc import encode_message, pack_bundles
from arpose.broadcast.raw import frame_datagrams, hands_face_messages
from arpose.broadcast.vmc import VmcEncoder
from arpose.retarget.body import BodyPose
from arpose.skeleton import NUM_BONES, REST_OFFSETS, forward_kinematics
from arpose.types import Frame, Person, PoseFrame

sys.path.insert(0, str(Path(__file__).parent))  # the add-on fixture of the test beside this file
from test_blender_addon import addon  # noqa: E402, F401 - the add-on imported without bpy
from test_blender_hands_face import _person_with_hands_and_face  # noqa: E402

SECONDS = 3.0
SEED = 16
_TAGS = b"ifsdhbTFNxX[]"


def _pose_frame(t: float, index: int) -> PoseFrame:
    rng = np.random.default_rng(index)
    q = R.from_rotvec(rng.normal(scale=0.5, size=(NUM_BONES, 3))).as_quat()
    root = np.array([0.1 * np.sin(t), 0.0, -3.0])
    pos, _ = forward_kinematics(q, root)
    body = BodyPose(q, root, pos, REST_OFFSETS.copy(), np.ones(NUM_BONES))
    lm = rng.random((33, 5)).astype(np.float32)
    person = Person(0, lm, rng.normal(size=(33, 3)).astype(np.float32), 0.9, body=body, angles={"left_elbow": 90.0})
    return PoseFrame(Frame(np.zeros((2, 2, 3), np.uint8), t, index), (person,))


@pytest.fixture(scope="module")
def real_datagrams() -> list[bytes]:
    """A few frames as VMC bundles (arpose's encoder) and as the raw OSC stream."""
    out: list[bytes] = []
    enc = VmcEncoder()
    for i in range(3):
        pf = _pose_frame(i / 30.0, i)
        out += pack_bundles(enc.encode(pf.people[0].body, pf.timestamp))
        out += frame_datagrams(pf, max_datagram=1400)
    out.append(encode_message("/VMC/Ext/Blend/Val", "Blink_L", 0.5))
    # Fingers, eyes and expressions: VMC (Bone/Pos, Blend/Val, Blend/Apply) and the raw stream.
    person, _, _ = _person_with_hands_and_face()
    pf = _pose_frame(0.1, 3)
    out += pack_bundles(VmcEncoder().encode(pf.people[0].body, 0.1, person.fingers, person.face_pose))
    out += pack_bundles(hands_face_messages(person))
    return out


def _nest(data: bytes, depth: int) -> bytes:
    for _ in range(depth):
        data = b"#bundle\x00" + bytes(8) + struct.pack(">i", len(data)) + data
    return data


def _mutate(rng: random.Random, pool: list[bytes]) -> bytes:
    buf = bytearray(rng.choice(pool))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            del buf[pos:]
        elif op == 2:
            buf[pos:pos] = rng.randbytes(rng.randrange(1, 16))
        elif op == 3:  # a type tag swapped for another (or an unknown one)
            comma = buf.find(b",")
            if comma >= 0 and comma + 1 < len(buf):
                buf[rng.randrange(comma + 1, min(len(buf), comma + 12))] = rng.choice(_TAGS)
        elif op == 4:  # a size field (bundle element or blob) set to anything
            if len(buf) >= 20:
                at = rng.randrange(0, len(buf) - 4) & ~3
                buf[at : at + 4] = struct.pack(
                    ">i", rng.choice([-1, 0, 3, 1 << 30, -(1 << 31), rng.randrange(1 << 16)])
                )
        elif op == 5:
            buf = bytearray(_nest(bytes(buf), rng.choice([1, 2, 7, 8, 9, 50, 1500])))
        elif op == 6:
            buf += rng.choice(pool)
        else:
            buf = bytearray(rng.randbytes(rng.randrange(64)))
    return bytes(buf[:70_000])


def _bones(mod):
    """An armature's bones as :func:`solve_armature` takes them: the arpose skeleton with
    random rest rolls."""
    rng = np.random.default_rng(0)
    heads = {n: h for n, (h, _) in mod.rest_joints_blender().items()}
    return [(n, p, tuple(R.random(random_state=rng).as_quat()), heads[n]) for n, p, *_ in mod.FULL_SKELETON]


@pytest.mark.slow
def test_parser_and_pose_state_raise_nothing_but_osc_error(addon, real_datagrams):  # noqa: F811
    for d in real_datagrams:  # the real ones parse
        assert addon.parse_packet(d)
    rng = random.Random(SEED)
    bones = _bones(addon)
    state = addon.PoseState()
    cases = bad = 0
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        data = _mutate(rng, real_datagrams)
        cases += 1
        try:
            messages = addon.parse_packet(data)
        except addon.OscError as exc:
            bad += 1
            assert "\n" not in str(exc)
            continue
        except Exception as exc:
            pytest.fail(f"case {cases}: parse_packet raised {type(exc).__name__}: {exc}; datagram {data[:200]!r}")
        try:
            for address, args in messages:
                state.handle(address, args)
            addon.solve_armature(state, bones)
            addon.shape_key_values(state.blend, ["Blink_L", "Fcl_MTH_A", "vrc.v_ih", "mouthSmile"])
        except Exception as exc:
            pytest.fail(
                f"case {cases}: the pose state failed with {type(exc).__name__}: {exc}; datagram {data[:200]!r}"
            )
    assert cases > 500 and 0 < bad < cases


@pytest.mark.slow
def test_poll_never_raises_counts_bad_datagrams_and_keeps_receiving(addon, real_datagrams):  # noqa: F811
    rng = random.Random(SEED + 1)
    rx = addon.UdpReceiver(0)
    rx.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    port = rx.sock.getsockname()[1]
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = expected_bad = 0
    try:
        deadline = time.monotonic() + SECONDS / 2
        while time.monotonic() < deadline:
            data = _mutate(rng, real_datagrams)[:65507]
            try:
                addon.parse_packet(data)
            except addon.OscError:
                expected_bad += 1
            tx.sendto(data, ("127.0.0.1", port))
            sent += 1
            read = 0
            end = time.monotonic() + 2
            while read < 1 and time.monotonic() < end:  # loopback: read each one back before the next
                read += rx.poll()
            assert read == 1
        frames_before = rx.state.frames
        for d in real_datagrams[:2]:  # one real VMC frame (2 bundles) still drives the pose
            tx.sendto(d, ("127.0.0.1", port))
        end = time.monotonic() + 5
        while rx.state.frames == frames_before and time.monotonic() < end:
            rx.poll()
            time.sleep(0.002)
    finally:
        tx.close()
        rx.close()
    assert sent > 100 and rx.bad_packets == expected_bad > 0
    assert rx.state.frames == frames_before + 1 and "Hips" in rx.state.local
