"""The raw OSC stream: every person's landmarks, scores, joint angles and bones, per frame.

Address space (all floats are float32; missing values are NaN, never 0)
-----------------------------------------------------------------------
==============================  ================================================================
address                         arguments
==============================  ================================================================
``/arpose/frame``               ``i`` frame index, ``f`` timestamp (s, source time), ``i`` people
                                in the frame. First message of *every* datagram of the frame.
``/arpose/person``              ``i`` id, ``f`` pose confidence [0, 1]
``/arpose/person/landmarks``    ``i`` id, ``99 f``: x, y, z of the 33 BlazePose landmarks in
                                :class:`~arpose.landmarks.PoseLandmark` order; x, y normalised
                                to the image (origin top-left, y down), z relative depth
``/arpose/person/visibility``   ``i`` id, ``33 f`` visibility [0, 1]
``/arpose/person/world``        ``i`` id, ``99 f``: x, y, z metres, MediaPipe world frame
                                (origin between the hips, x image-right, y down, z away)
``/arpose/person/angles``       ``i`` id, then ``s`` name, ``f`` degrees pairs, sorted by name
                                (only when joint angles were computed)
``/arpose/person/root``         ``i`` id, ``3 f`` Hips position, ``4 f`` body rotation
                                ``(x, y, z, w)``, rig *world* frame (only with a retargeted body)
``/arpose/person/bone``         ``i`` id, ``s`` bone name, ``4 f`` local rotation ``(x, y, z, w)``,
                                rig frame, identity = T-pose (one per bone, with a body)
``/arpose/person/hand``         ``i`` id, ``s`` side (``left`` / ``right``: the subject's),
                                ``f`` confidence, ``63 f``: x, y, z of the 21 hand landmarks in
                                :class:`~arpose.landmarks.HandLandmark` order, as the body's
                                landmarks (one per side, with ``--hands``; NaN if not seen)
``/arpose/person/hand/world``   ``i`` id, ``s`` side, ``63 f``: x, y, z metres about the hand's
                                centre, image axes (x right, y down, z away)
``/arpose/person/fingers``      ``i`` id, ``s`` side, ``60 f``: the side's 15 finger bones' local
                                rotations ``(x, y, z, w)`` in :data:`~arpose.skeleton.FINGER_BONES`
                                order, rig frame, identity = the straight rest hand (NaN if that
                                hand was not seen)
``/arpose/person/face``         ``i`` id, ``f`` confidence, ``i`` first point, ``3n f``: x, y, z of
                                face points ``first .. first + n - 1`` (n <= :data:`FACE_CHUNK`);
                                :data:`FACE_MESSAGES` messages cover the 478 points (with ``--face``;
                                NaN if not seen)
``/arpose/person/expressions``  ``i`` id, then ``s`` name, ``f`` weight [0, 1] pairs in
                                :class:`~arpose.retarget.face.Expression` order (NaN: unreadable)
``/arpose/person/eyes``         ``i`` id, ``4 f`` LeftEye, ``4 f`` RightEye local rotations relative to
                                the Head ``(x, y, z, w)``, rig frame, ``f`` jaw opening [0, 1]
                                (both only with a face seen: ``Person.face_pose``)
``/arpose/frame/end``           ``i`` frame index: the frame's last message
==============================  ================================================================

Rig frame: metres, right-handed, +Y up, +Z the subject's forward, +X the subject's left
(:mod:`arpose.skeleton`); *world* is camera-attached (:mod:`arpose.retarget.body`). Every
bundle's time tag is "immediately"; the frame's own time is in ``/arpose/frame``.
"""

from __future__ import annotations

import numpy as np

from ..landmarks import NUM_FACE_LANDMARKS, NUM_HAND_LANDMARKS, VISIBILITY
from ..skeleton import BONE_NAMES
from ..types import Person, PoseFrame
from .osc import DEFAULT_MAX_DATAGRAM, RateLimiter, UdpSender, encode_message, pack_bundles, resolve

RAW_DEFAULT_PORT = 9000
#: Face points per ``/arpose/person/face`` message: 80 points (240 floats, a 1244-byte message)
#: keep each datagram, with the frame header, under the 1400-byte budget.
FACE_CHUNK = 80
#: ``/arpose/person/face`` messages per face (478 points).
FACE_MESSAGES = -(-NUM_FACE_LANDMARKS // FACE_CHUNK)
SIDE_NAMES = ("left", "right")


def _nan_where_missing(a, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` as float64 of ``shape``, or all NaN when ``a`` is None."""
    return np.full(shape, np.nan) if a is None else np.asarray(a, dtype=np.float64).reshape(shape)


def hands_face_messages(person: Person) -> list[bytes]:
    """The hand, finger, face and expression messages of one person (pure; see the module
    table): hands only when ``person.hands`` is set (``--hands``), the face when
    ``person.face`` is, expressions and eyes when ``person.face_pose`` is."""
    pid = int(person.id)
    msgs: list[bytes] = []
    if person.hands is not None:
        hands = _nan_where_missing(person.hands, (2, NUM_HAND_LANDMARKS, 4))
        world = _nan_where_missing(person.hands_world, (2, NUM_HAND_LANDMARKS, 3))
        for side, name in enumerate(SIDE_NAMES):
            conf = hands[side, :, 3]
            c = float(np.nanmax(conf)) if np.isfinite(conf).any() else float("nan")
            msgs.append(encode_message("/arpose/person/hand", pid, name, c, hands[side, :, :3]))
            msgs.append(encode_message("/arpose/person/hand/world", pid, name, world[side]))
    fingers = person.fingers
    if fingers is not None:
        rot = np.asarray(fingers.local_rotations, dtype=np.float64).reshape(2, 15, 4)
        for side, name in enumerate(SIDE_NAMES):
            r = rot[side] if bool(fingers.seen[side]) else np.full((15, 4), np.nan)
            msgs.append(encode_message("/arpose/person/fingers", pid, name, r))
    if person.face is not None:
        face = _nan_where_missing(person.face, (NUM_FACE_LANDMARKS, 4))
        vis = face[:, 3]
        c = float(np.nanmax(vis)) if np.isfinite(vis).any() else float("nan")
        for first in range(0, NUM_FACE_LANDMARKS, FACE_CHUNK):
            pts = face[first : first + FACE_CHUNK, :3]
            msgs.append(encode_message("/arpose/person/face", pid, c, first, pts))
    fp = person.face_pose
    if fp is not None:
        from ..retarget.face import Expression

        w = np.asarray(fp.expressions, dtype=np.float64)
        pairs: list = []
        for e in Expression:
            pairs += [e.label, float(w[e])]
        msgs.append(encode_message("/arpose/person/expressions", pid, *pairs))
        eyes = np.asarray(fp.eye_rotations, dtype=np.float64)
        msgs.append(encode_message("/arpose/person/eyes", pid, eyes, float(fp.jaw)))
    return msgs


def frame_header(pose_frame: PoseFrame) -> bytes:
    """The ``/arpose/frame`` message."""
    return encode_message("/arpose/frame", int(pose_frame.index), float(pose_frame.timestamp), len(pose_frame.people))


def person_messages(person: Person) -> list[bytes]:
    """One person's messages (pure; see the module table)."""
    pid = int(person.id)
    lm = np.asarray(person.landmarks, dtype=np.float64)
    msgs = [
        encode_message("/arpose/person", pid, float(person.score)),
        encode_message("/arpose/person/landmarks", pid, lm[:, :3]),
        encode_message("/arpose/person/visibility", pid, lm[:, VISIBILITY]),
        encode_message("/arpose/person/world", pid, np.asarray(person.world, dtype=np.float64)),
    ]
    if person.angles is not None:
        pairs: list = []
        for name in sorted(person.angles):
            pairs += [str(name), float(person.angles[name])]
        msgs.append(encode_message("/arpose/person/angles", pid, *pairs))
    body = person.body
    if body is not None:
        msgs.append(
            encode_message(
                "/arpose/person/root",
                pid,
                np.asarray(body.root_position, dtype=np.float64),
                np.asarray(body.local_rotations[0], dtype=np.float64),
            )
        )
        for i, name in enumerate(BONE_NAMES):
            msgs.append(
                encode_message("/arpose/person/bone", pid, name, np.asarray(body.local_rotations[i], dtype=np.float64))
            )
    return msgs + hands_face_messages(person)


def frame_datagrams(pose_frame: PoseFrame, max_datagram: int = DEFAULT_MAX_DATAGRAM) -> list[bytes]:
    """The whole frame as bundles of at most ``max_datagram`` bytes, each starting with the
    ``/arpose/frame`` header; the last ends with ``/arpose/frame/end``."""
    msgs: list[bytes] = []
    for person in pose_frame.people:
        msgs += person_messages(person)
    msgs.append(encode_message("/arpose/frame/end", int(pose_frame.index)))
    return pack_bundles(msgs, max_datagram, head=[frame_header(pose_frame)])


class RawOscSink:
    """Pipeline sink sending the raw stream to ``host:port`` (resolved once here;
    :class:`~arpose.errors.ConfigError` if it does not resolve). rate_hz caps frames per
    second (``None``: every frame). Sending never blocks or raises; drops are counted in
    ``sender.stats``."""

    def __init__(
        self,
        host: str,
        port: int = RAW_DEFAULT_PORT,
        rate_hz: float | None = None,
        max_datagram: int = DEFAULT_MAX_DATAGRAM,
        option: str = "--osc",
    ) -> None:
        self.host, self.port = host, port
        self.family, self.sockaddr = resolve(host, port, option)
        self.max_datagram = max_datagram
        self.limiter = RateLimiter(rate_hz)
        self.sender = UdpSender()
        self.frames_sent = 0

    def write(self, pose_frame: PoseFrame, image=None) -> None:
        if not self.limiter.allow():
            return
        for dgram in frame_datagrams(pose_frame, self.max_datagram):
            self.sender.send(dgram, self.family, self.sockaddr)
        self.frames_sent += 1

    def close(self) -> None:
        self.sender.close()
