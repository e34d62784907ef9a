"""VMC protocol (Virtual Motion Capture, OSC over UDP) performer: drives Unity / Blender / VTuber
avatars (EVMC4U, VMC4B, VSeeFace, VNyan, the Virtual Motion Capture app) from
:class:`arpose.retarget.BodyPose`. docs/osc.md has the full description and what receivers do.

What one frame sends (in this order, packed into bundles of at most ``max_datagram`` bytes)
--------------------------------------------------------------------------------------------
* ``/VMC/Ext/Root/Pos`` ``s "root"``, ``3 f`` position, ``4 f`` quaternion: the avatar's root
  object. Position: the hips' horizontal displacement from the **calibrated origin** (where
  the hips were on the first settled frame with a known root position), on the floor (``y = 0``);
  rotation identity (the body's orientation is the Hips' rotation).
* ``/VMC/Ext/Bone/Pos`` ``s name``, ``3 f`` local position, ``4 f`` local rotation, for every
  humanoid bone of the receiving avatar (Unity ``HumanBodyBones`` names), parents first. With
  no avatar file that is arpose's standard skeleton (:data:`arpose.skeleton.BONES`): rotations
  relative to the T-pose (identity = VRM T-pose), positions the standard rest offsets, which
  receivers that copy positions (EVMC4U's default) take as the avatar's proportions. With an
  avatar (:mod:`.avatar`): that avatar's own bones, local positions and rest pose. The Hips'
  position carries the hip height above the floor.
* ``/VMC/Ext/Tra/Pos`` (with trackers) ``s serial``, ``3 f`` world position, ``4 f`` rotation for
  the head, hips, hands and feet (:data:`~arpose.broadcast.avatar.TRACKER_BONES`).
* ``/VMC/Ext/Bone/Pos`` for the finger bones (:data:`~arpose.skeleton.FINGER_BONE_NAMES`) of each
  hand ``Person.fingers`` has seen (a hand not seen sends none: the receiver keeps it as it was)
  and ``LeftEye`` / ``RightEye`` with a ``Person.face_pose``: rest local positions (the avatar's
  own with an avatar file that has those bones; bones it lacks are skipped), local rotations in
  Unity's frame like the body's. arpose's skeleton has no Jaw bone: the mouth opens through the
  vowel blend shapes.
* ``/VMC/Ext/Blend/Val`` ``s name``, ``f weight`` for each row of :data:`BLEND_SHAPE_TABLE`
  (VRM 0.x or 1.0 names, ``expressions``) and one ``/VMC/Ext/Blend/Apply``, with a
  ``Person.face_pose``. Hands and face do not wait for the body to settle.
* ``/VMC/Ext/OK`` ``i 1`` (loaded), ``i`` calibration state (3 calibrated; 2 calibrating:
  the person's body has not settled yet, :attr:`arpose.retarget.BodyPose.settled`, and no pose
  is sent; 1 waiting for the first root position), ``i 0`` calibration mode (normal), ``i``
  tracking status (1 tracked, 0 lost: no person, or no retargeted body, this frame).
* ``/VMC/Ext/T`` ``f`` the frame's timestamp in seconds (source time).

A stream starts clean: until a person's body has settled (their first half second, while
BlazePose's first frames and the root fit's filters settle) only the status goes out, calibrating;
the first pose sent is a settled one, and it sets the calibrated origin.

Frames
------
Unity: left-handed, +Y up, +Z the avatar's forward, +X its right, metres, quaternions
``(x, y, z, w)``. From the rig / *world* frame of :class:`BodyPose` (right-handed, +X the
subject's left) by mirroring X (:func:`arpose.skeleton.rig_to_unity_position` /
:func:`~arpose.skeleton.rig_to_unity_quaternion`). A subject facing the camera gives an
avatar facing +Z; walking towards the camera moves it along +Z; stepping to the image's
right (the subject's left) moves it along Unity -X (the avatar's left).

Translations are in the avatar's metres: world metres times ``the avatar's leg length / the
person's leg length`` (from ``BodyPose.offsets``; the standard body's leg without an avatar),
so the avatar's feet move as far as the person's. The hip height is ``root_y - floor_height``
when the floor is known, else the avatar's rest hip height plus the hips' rise since
calibration, both scaled by standing hip heights (a person standing straight stands the
avatar at its own rest height).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..skeleton import (
    BONE_INDEX,
    BONE_NAMES,
    EYE_BONE_NAMES,
    FINGER_BONE_NAMES,
    NUM_BONES,
    REST_OFFSETS,
    rig_to_unity_position,
)
from ..types import PoseFrame
from .osc import DEFAULT_MAX_DATAGRAM, RateLimiter, UdpSender, encode_message, pack_bundles, resolve

#: The Marionette's (receiver's) standard port.
VMC_DEFAULT_PORT = 39539

#: The one table of VRM blend shape (expression) names: ``(Expression member, VRM 0.x clip, VRM 1.0
#: expression)`` in the order the ``/VMC/Ext/Blend/Val`` messages go out. Names are
#: case-sensitive. Left / right are the subject's, who is the avatar: VRM's ``Blink_L`` /
#: ``blinkLeft`` closes the avatar's own left eye (the eye of its ``leftEye`` bone). ``MOUTH_OPEN``
#: is no VRM clip: the mouth opens through the vowels (each is gated by the opening).
BLEND_SHAPE_TABLE: tuple[tuple[str, str, str], ...] = (
    ("BLINK_LEFT", "Blink_L", "blinkLeft"),
    ("BLINK_RIGHT", "Blink_R", "blinkRight"),
    ("A", "A", "aa"),
    ("I", "I", "ih"),
    ("U", "U", "ou"),
    ("E", "E", "ee"),
    ("O", "O", "oh"),
    ("SMILE", "Joy", "happy"),
    ("BROWS_DOWN", "Angry", "angry"),
    ("BROWS_UP", "Surprised", "surprised"),
)
#: ``--vmc-expressions`` values: VRM 0.x names (the default), VRM 1.0 names, or no blend shapes.
EXPRESSION_SETS = ("vrm0", "vrm1", "off")
#: ``{set: ((Expression member, blend shape name), ...)}`` from :data:`BLEND_SHAPE_TABLE`.
BLEND_SHAPE_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "vrm0": tuple((e, v0) for e, v0, _ in BLEND_SHAPE_TABLE),
    "vrm1": tuple((e, v1) for e, _, v1 in BLEND_SHAPE_TABLE),
    "off": (),
}
#: ``/VMC/Ext/Tra/Pos`` serials are this prefix plus the bone name (``arpose_Head`` ...).
TRACKER_SERIAL_PREFIX = "arpose_"

CALIBRATION_WAITING = 1
CALIBRATION_RUNNING = 2
CALIBRATION_DONE = 3
_IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])
_HIPS = BONE_INDEX["Hips"]


def _leg_length(offsets: np.ndarray) -> float:
    """Mean hip-to-ankle length (metres) over both legs from ``(B, 3)`` rest offsets."""
    o = np.asarray(offsets, dtype=np.float64)
    return float(
        np.mean(
            [
                np.linalg.norm(o[BONE_INDEX[f"{s}LowerLeg"]]) + np.linalg.norm(o[BONE_INDEX[f"{s}Foot"]])
                for s in ("Left", "Right")
            ]
        )
    )


STANDARD_LEG = _leg_length(REST_OFFSETS)
#: Standard rest height of the Hips joint above the floor (metres).
STANDARD_HIP_HEIGHT = float(REST_OFFSETS[_HIPS, 1])
#: ``(B, 3)`` standard rest offsets in Unity axes: the local positions sent for every bone but the Hips.
UNITY_REST_OFFSETS = rig_to_unity_position(REST_OFFSETS)


def body_scale(offsets: np.ndarray | None, avatar_leg: float = STANDARD_LEG) -> float:
    """Factor from the person's metres to the avatar's: the avatar's leg / the person's leg
    (``avatar_leg`` metres, the standard body's by default; 1 when ``offsets`` is missing or
    degenerate)."""
    if offsets is None:
        return 1.0
    leg = _leg_length(offsets)
    return avatar_leg / leg if np.isfinite(leg) and leg > 1e-3 else 1.0


@dataclass(frozen=True)
class VmcPose:
    """One avatar pose in Unity's frame, ready to encode.

    root_position: ``(3,)`` metres, Unity; root_rotation: ``(4,)`` ``(x, y, z, w)``.
    bone_positions: ``(n, 3)`` local positions, Unity, metres of the avatar; bone_rotations:
    ``(n, 4)`` local rotations ``(x, y, z, w)``, Unity. Rows follow ``bone_names`` (all of
    ``BONE_NAMES`` for the standard skeleton, the bones the avatar has otherwise).
    trackers: ``(serial, (3,) position, (4,) rotation)`` virtual trackers, Unity *world* (the
    root's displacement included), sent as ``/VMC/Ext/Tra/Pos`` after the bones.
    """

    root_position: np.ndarray
    root_rotation: np.ndarray
    bone_positions: np.ndarray
    bone_rotations: np.ndarray
    bone_names: tuple[str, ...] = BONE_NAMES
    trackers: tuple[tuple[str, np.ndarray, np.ndarray], ...] = field(default=())


def vmc_pose(
    local_rotations: np.ndarray,
    root_position: np.ndarray,
    origin: np.ndarray,
    scale: float = 1.0,
    floor_height: float = float("nan"),
    avatar=None,
    trackers: bool = False,
) -> VmcPose:
    """Rig-frame body to a Unity-frame VMC pose on ``avatar`` (pure).

    local_rotations: ``(B, 4)`` rig-frame local rotations ``(x, y, z, w)`` (identity = T-pose;
        the Hips' is the body orientation in *world*). Must be finite (see :class:`VmcEncoder`
        for the hold-last policy).
    root_position: ``(3,)`` Hips joint in *world* metres (finite).
    origin: ``(3,)`` the calibrated Hips position in *world* metres.
    scale: person metres -> avatar metres (:func:`body_scale` with the avatar's leg length).
    floor_height: the floor's *world* Y in metres, NaN if unknown.
    avatar: an :class:`~arpose.broadcast.avatar.AvatarRig` (None: arpose's standard skeleton).
    trackers: add the virtual trackers of :data:`~arpose.broadcast.avatar.TRACKER_BONES`.
    """
    from .avatar import pose_avatar

    rig = avatar if avatar is not None else _standard()
    q = np.asarray(local_rotations, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    root = np.asarray(root_position, dtype=np.float64)
    origin = np.asarray(origin, dtype=np.float64)
    d = (root - origin) * scale
    # Heights scale by standing hip heights (so a standing person stands the avatar at its own
    # rest height), the rest by leg lengths; both are `scale` for arpose's proportions.
    up = scale * ((rig.hip_height / rig.leg_length) / (STANDARD_HIP_HEIGHT / STANDARD_LEG))
    if np.isfinite(floor_height):
        hip_height = (root[1] - floor_height) * up
    else:
        hip_height = rig.hip_height + (root[1] - origin[1]) * up
    centre = np.array([rig.hip_centre[0], hip_height, rig.hip_centre[2]])
    pose = pose_avatar(rig, q, centre, trackers=trackers)
    root_unity = rig_to_unity_position(np.array([d[0], 0.0, d[2]]))
    tracked: tuple = ()
    if trackers and pose.tracker_positions is not None:
        tracked = tuple(
            (TRACKER_SERIAL_PREFIX + b, root_unity + pose.tracker_positions[b], pose.tracker_rotations[b])
            for b in pose.tracker_positions
        )
    return VmcPose(
        root_position=root_unity,
        root_rotation=_IDENTITY.copy(),
        bone_positions=pose.positions,
        bone_rotations=pose.rotations,
        bone_names=pose.bone_names,
        trackers=tracked,
    )


_STANDARD = None


def _standard():
    """arpose's standard skeleton as an avatar (built once)."""
    global _STANDARD
    if _STANDARD is None:
        from .avatar import standard_avatar

        _STANDARD = standard_avatar()
    return _STANDARD


def encode_pose(pose: VmcPose) -> list[bytes]:
    """``/VMC/Ext/Root/Pos``, one ``/VMC/Ext/Bone/Pos`` per bone, then one ``/VMC/Ext/Tra/Pos``
    per tracker, as OSC messages."""
    msgs = [encode_message("/VMC/Ext/Root/Pos", "root", pose.root_position, pose.root_rotation)]
    for i, name in enumerate(pose.bone_names):
        msgs.append(encode_message("/VMC/Ext/Bone/Pos", name, pose.bone_positions[i], pose.bone_rotations[i]))
    for serial, position, rotation in pose.trackers:
        msgs.append(encode_message("/VMC/Ext/Tra/Pos", serial, position, rotation))
    return msgs


def detail_rotations(fingers=None, face_pose=None) -> dict[str, np.ndarray]:
    """``{bone: (4,)}`` the finger and eye bones' local rotations to send, rig frame, ``(x, y, z, w)``
    normalised (identity = rest: the straight T-pose hand, eyes looking forward).

    fingers: ``Person.fingers`` (:class:`arpose.retarget.fingers.HandsPose`) or None: the 15
        bones of each hand it has seen (a hand not seen sends nothing, so the receiver keeps
        that hand as it was). face_pose: ``Person.face_pose``
        (:class:`arpose.retarget.face.FacePose`) or None: ``LeftEye`` / ``RightEye`` local to the
        Head. Non-finite or zero rotations are left out (never NaN over VMC).
    """
    out: dict[str, np.ndarray] = {}

    def put(name: str, q) -> None:
        q = np.asarray(q, dtype=np.float64)
        n = float(np.linalg.norm(q)) if np.all(np.isfinite(q)) else 0.0
        if n > 1e-6:
            out[name] = q / n

    if fingers is not None:
        for side in range(2):
            if bool(fingers.seen[side]):
                for k in range(side * 15, side * 15 + 15):
                    put(FINGER_BONE_NAMES[k], fingers.local_rotations[k])
    if face_pose is not None:
        for k, name in enumerate(EYE_BONE_NAMES):
            put(name, face_pose.eye_rotations[k])
    return out


def encode_details(rotations: dict[str, np.ndarray], avatar=None) -> list[bytes]:
    """One ``/VMC/Ext/Bone/Pos`` per finger / eye bone of ``rotations`` (:func:`detail_rotations`)
    that the avatar has (``avatar``: an :class:`~arpose.broadcast.avatar.AvatarRig`, None: arpose's
    standard skeleton), parents first: the bone's rest local position and its local rotation, Unity."""
    if not rotations:
        return []
    from .avatar import pose_details

    names, positions, rots = pose_details(avatar if avatar is not None else _standard(), rotations)
    return [encode_message("/VMC/Ext/Bone/Pos", n, positions[k], rots[k]) for k, n in enumerate(names)]


def encode_expressions(face_pose, expressions: str = "vrm0") -> list[bytes]:
    """``/VMC/Ext/Blend/Val`` ``s name``, ``f weight`` for each expression of
    :data:`BLEND_SHAPE_TABLE` (names of ``expressions``: ``"vrm0"`` / ``"vrm1"``), in the table's
    order, then one ``/VMC/Ext/Blend/Apply``. Nothing for ``"off"`` or without a ``face_pose``; a
    NaN weight (a face too small to read) is left out, so the receiver keeps its value."""
    table = BLEND_SHAPE_NAMES[expressions]
    if face_pose is None or not table:
        return []
    from ..retarget.face import Expression

    weights = np.asarray(face_pose.expressions, dtype=np.float64)
    msgs = []
    for member, name in table:
        v = float(weights[Expression[member]])
        if math.isfinite(v):
            msgs.append(encode_message("/VMC/Ext/Blend/Val", name, v))
    msgs.append(encode_message("/VMC/Ext/Blend/Apply"))
    return msgs


def encode_status(timestamp: float, calibrated: bool | int, tracking: bool) -> list[bytes]:
    """``/VMC/Ext/OK`` (loaded 1, calibration state, mode 0, tracking status) and ``/VMC/Ext/T``.
    calibrated: True (3, calibrated), False (1, waiting) or a calibration state itself
    (:data:`CALIBRATION_WAITING`, :data:`CALIBRATION_RUNNING`, :data:`CALIBRATION_DONE`)."""
    if isinstance(calibrated, bool):
        state = CALIBRATION_DONE if calibrated else CALIBRATION_WAITING
    else:
        state = int(calibrated)
    return [
        encode_message("/VMC/Ext/OK", 1, state, 0, int(tracking)),
        encode_message("/VMC/Ext/T", float(timestamp)),
    ]


class VmcEncoder:
    """One avatar's stream: keeps the calibrated origin and the last good values.

    ``encode(body, timestamp)`` returns the frame's OSC messages. ``body`` is a
    :class:`arpose.retarget.BodyPose` or ``None`` (person lost / not retargeted: only the
    status, tracking 0, so the receiver holds the last pose). Until the first
    :attr:`~arpose.retarget.BodyPose.settled` body only the status goes out, calibrating (2),
    tracking 1; that body is the first pose sent. Non-finite rotations hold the previous frame's value for that bone (identity before any); a NaN root position holds the
    previous root. The origin is set by the first known root position; :meth:`recalibrate`
    sets it again from the next one. avatar: the receiving avatar
    (:class:`~arpose.broadcast.avatar.AvatarRig`; None: arpose's standard skeleton);
    trackers: also send ``/VMC/Ext/Tra/Pos`` virtual trackers; expressions: blend shape names
    (:data:`EXPRESSION_SETS`). ``fingers`` / ``face_pose`` (``Person.fingers`` /
    ``Person.face_pose``, or None) add finger and eye bones (:func:`detail_rotations`) after the
    body's and the blend shapes (:func:`encode_expressions`), whatever the body's state.
    """

    def __init__(self, avatar=None, trackers: bool = False, expressions: str = "vrm0") -> None:
        if expressions not in EXPRESSION_SETS:
            raise ConfigError(f"--vmc-expressions must be vrm0, vrm1 or off, got {expressions!r}")
        self.avatar = avatar
        self.trackers = trackers
        self.expressions = expressions
        self.origin: np.ndarray | None = None
        self.started = False  # a settled pose has been sent
        self._last_rot = np.tile(_IDENTITY, (NUM_BONES, 1))
        self._last_root: np.ndarray | None = None

    @property
    def calibrated(self) -> bool:
        return self.origin is not None

    def recalibrate(self) -> None:
        self.origin = None

    def encode(self, body, timestamp: float, fingers=None, face_pose=None) -> list[bytes]:
        details = encode_details(detail_rotations(fingers, face_pose), self.avatar)
        details += encode_expressions(face_pose, self.expressions)
        if body is None:
            return details + encode_status(timestamp, self.calibrated, tracking=False)
        if not self.started:
            if not getattr(body, "settled", True):
                return details + encode_status(timestamp, CALIBRATION_RUNNING, tracking=True)
            self.started = True
        q = np.asarray(body.local_rotations, dtype=np.float64)
        good = np.all(np.isfinite(q), axis=1) & (np.linalg.norm(np.nan_to_num(q), axis=1) > 1e-6)
        rot = np.where(good[:, None], q, self._last_rot)
        self._last_rot = rot
        root = np.asarray(body.root_position, dtype=np.float64)
        if np.all(np.isfinite(root)):
            self._last_root = root
        root = self._last_root
        if root is None:  # no position yet: pose in place at the rest height
            root, origin = np.zeros(3), np.zeros(3)
        else:
            if self.origin is None:
                self.origin = root.copy()
            origin = self.origin
        leg = self.avatar.leg_length if self.avatar is not None else STANDARD_LEG
        pose = vmc_pose(
            rot,
            root,
            origin,
            body_scale(getattr(body, "offsets", None), leg),
            float(getattr(body, "floor_height", float("nan"))),
            avatar=self.avatar,
            trackers=self.trackers,
        )
        return encode_pose(pose) + details + encode_status(timestamp, self.calibrated, tracking=True)


class SlotAllocator:
    """Stable avatar slots for tracked people: slot N goes to port + N.

    A new person id takes slot ``id`` if that slot is free and below ``max_slots``, else the
    lowest free slot; a slot is released when its person has been absent for
    ``release_after_s`` seconds of frame time. People beyond ``max_slots`` get no slot.
    """

    def __init__(self, max_slots: int = 4, release_after_s: float = 2.0) -> None:
        self.max_slots = max_slots
        self.release_after_s = release_after_s
        self.slots: dict[int, int] = {}  # person id -> slot
        self._seen: dict[int, float] = {}

    def assign(self, ids: list[int], timestamp: float) -> dict[int, int]:
        """Slots of the people in this frame (``{person id: slot}``); releases stale slots first."""
        for pid in list(self.slots):
            if pid not in ids and timestamp - self._seen[pid] > self.release_after_s:
                del self.slots[pid], self._seen[pid]
        for pid in ids:
            if pid not in self.slots:
                used = set(self.slots.values())
                free = [s for s in range(self.max_slots) if s not in used]
                if not free:
                    continue
                self.slots[pid] = pid if pid in free else free[0]
            self._seen[pid] = timestamp
        return {pid: self.slots[pid] for pid in ids if pid in self.slots}


class VmcSink:
    """Pipeline sink sending every person's retargeted body over VMC.

    host, port: the Marionette (receiver); person slot N is sent to ``port + N``. The host
    is resolved once here; :class:`~arpose.errors.ConfigError` if it does not resolve or the
    ports do not fit. rate_hz: cap on frames sent per second (``None``: every frame).
    max_people: number of avatar slots (ports ``port .. port + max_people - 1``).
    avatar: the receiving avatar: a ``.vrm`` / ``.glb`` / ``.gltf`` path (read here with
    :func:`~arpose.broadcast.avatar.read_avatar`, so a bad file fails before anything is sent)
    or an :class:`~arpose.broadcast.avatar.AvatarRig`; None sends arpose's standard skeleton.
    vrm: the bone form, ``"0"`` (normalised, VRM 0.x) or ``"1"`` (the file's own bones, VRM 1.0);
    None: chosen by the file. trackers: also send ``/VMC/Ext/Tra/Pos`` virtual trackers.
    expressions: blend shape names (:data:`EXPRESSION_SETS`: ``"vrm0"``, ``"vrm1"``, ``"off"``).
    Sending never blocks or raises; drops are counted in ``sender.stats``.
    """

    def __init__(
        self,
        host: str,
        port: int = VMC_DEFAULT_PORT,
        rate_hz: float | None = None,
        max_people: int = 4,
        max_datagram: int = DEFAULT_MAX_DATAGRAM,
        option: str = "--vmc",
        avatar=None,
        vrm: str | None = None,
        trackers: bool = False,
        expressions: str = "vrm0",
    ) -> None:
        if expressions not in EXPRESSION_SETS:
            raise ConfigError(f"--vmc-expressions must be vrm0, vrm1 or off, got {expressions!r}")
        if not (1 <= port and port + max_people - 1 <= 65535):
            raise ConfigError(
                f"{option}: ports {port}..{port + max_people - 1} (one per person) exceed 65535; choose a lower port"
            )
        if vrm is not None and avatar is None:
            raise ConfigError("--vmc-vrm chooses how --vmc-avatar's bones are sent; give --vmc-avatar FILE")
        if avatar is not None and not hasattr(avatar, "bones"):
            from .avatar import read_avatar

            if vrm is not None and str(vrm) not in ("0", "1"):
                raise ConfigError(f"--vmc-vrm must be 0 or 1, got {vrm!r}")
            avatar = read_avatar(avatar, None if vrm is None else f"vrm{vrm}")
        self.avatar = avatar
        self.trackers = bool(trackers)
        self.expressions = expressions
        self.host, self.port = host, port
        self.family, sockaddr = resolve(host, port, option)
        self._addr = [(sockaddr[0], port + n, *sockaddr[2:]) for n in range(max_people)]
        self.max_datagram = max_datagram
        self.limiter = RateLimiter(rate_hz)
        self.allocator = SlotAllocator(max_people)
        self.encoders: dict[int, VmcEncoder] = {}
        self.sender = UdpSender()
        self.frames_sent = 0
        #: people sent without a retargeted body (``Person.body`` None): status only, tracking 0
        self.people_without_body = 0
        self._owner: dict[int, int] = {}  # slot -> person id last sent there

    def write(self, pose_frame: PoseFrame, image=None) -> None:
        if not self.limiter.allow():
            return
        t = pose_frame.timestamp
        slots = self.allocator.assign([p.id for p in pose_frame.people], t)
        for person in pose_frame.people:
            slot = slots.get(person.id)
            if slot is None:
                continue
            if self._owner.get(slot) != person.id:  # a new person in this slot: a fresh origin and history
                self.encoders[slot] = VmcEncoder(self.avatar, self.trackers, self.expressions)
                self._owner[slot] = person.id
            enc = self.encoders[slot]
            self.people_without_body += person.body is None
            self._send(slot, enc.encode(person.body, t, person.fingers, person.face_pose))
        for pid, slot in self.allocator.slots.items():  # held but absent: hold pose, tracking 0
            if pid not in slots:
                self._send(slot, self.encoders[slot].encode(None, t))
        self.frames_sent += 1

    def _send(self, slot: int, messages: list[bytes]) -> None:
        for dgram in pack_bundles(messages, self.max_datagram):
            self.sender.send(dgram, self.family, self._addr[slot])

    def close(self) -> None:
        self.sender.close()
