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
``/arpose/frame/end``           ``i`` frame index: the frame's last message
==============================  ================================================================

Rig frame: metres, right-handed, +Y up, +Z the subject's forward, +X the subject's left
(:mod:`arpose.skeleton`); *world* is camera-attached (:mod:`arpose.retarget.body`). Every
bundle's time tag is "immediately"; the frame's own time is in ``/arpose/frame``.
"""

from __future__ import annotations

import numpy as np

from ..landmarks import VISIBILITY
from ..skeleton import BONE_NAMES
from ..types import Person, PoseFrame
from .osc import DEFAULT_MAX_DATAGRAM, RateLimiter, UdpSender, encode_message, pack_bundles, resolve

RAW_DEFAULT_PORT = 9000


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
    return msgs


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
