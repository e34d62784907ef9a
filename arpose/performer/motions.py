"""Motions that drive the performer: built-in procedural ones and (see
:mod:`arpose.performer.bvh_motion`) motion-capture takes.

A motion maps times to skeleton poses in the *stage* frame: the rig frame of
:mod:`arpose.skeleton` (metres, +Y up, +X the subject's left, +Z the subject's forward) with the
floor at y = 0 and the subject starting at the origin, facing +Z (towards the camera once
placed). Procedural motions are smooth closed-form functions of time, so they can be sampled
at any frame rate and are exactly periodic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from ..errors import ConfigError
from ..skeleton import BONE_INDEX, NUM_BONES

if TYPE_CHECKING:
    from scipy.spatial.transform import Rotation


@dataclass(frozen=True)
class MotionSample:
    """Poses at ``F`` times.

    local_rotations: ``(F, B, 4)`` quaternions ``(x, y, z, w)``, each bone relative to its
        parent in the rig convention (identity = T-pose); the root's is the body's orientation
        in the stage frame.
    root_position: ``(F, 3)`` metres: x and z the Hips' horizontal position in the stage frame;
        y the *lift*, the height of the lowest point of the shoes above the floor (0 = standing
        on the floor, > 0 = airborne). The performer turns the lift into the Hips height for
        the mannequin's own leg lengths.
    finger_flexion, finger_abduction: ``(F, 2, 5, 3)`` / ``(F, 2, 5)`` degrees, each hand's
        finger joint angles (first axis of the pair :class:`arpose.landmarks.Side`, the
        subject's; conventions of :mod:`arpose.performer.hands`); None = open flat hands.
    gestures: ``(F,)`` the gesture shown per frame (:data:`arpose.performer.hands.GESTURES`
        names), or None when the motion shows none.
    """

    local_rotations: np.ndarray
    root_position: np.ndarray
    finger_flexion: np.ndarray | None = None
    finger_abduction: np.ndarray | None = None
    gestures: tuple[str, ...] | None = None


class Motion(Protocol):
    """name: short name. duration: natural length in seconds, or None when it loops forever.
    fps: natural frame rate (a capture's), or None when it has none (procedural)."""

    name: str
    duration: float | None
    fps: float | None

    def sample(self, times: np.ndarray) -> MotionSample: ...


def _rx(deg) -> Rotation:
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("x", np.reshape(deg, (-1, 1)), degrees=True)


def _ry(deg) -> Rotation:
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("y", np.reshape(deg, (-1, 1)), degrees=True)


def _rz(deg) -> Rotation:
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("z", np.reshape(deg, (-1, 1)), degrees=True)


class _Pose:
    """Per-bone rotations for F frames, identity unless set."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.q = np.tile(np.array([0.0, 0.0, 0.0, 1.0]), (n, NUM_BONES, 1))
        self.finger_flexion: np.ndarray | None = None
        self.finger_abduction: np.ndarray | None = None
        self.gestures: tuple[str, ...] | None = None

    def set(self, bone: str, rot: Rotation) -> None:
        q = rot.as_quat()
        self.q[:, BONE_INDEX[bone]] = np.broadcast_to(q, (self.n, 4))


def _relaxed_arms(p: _Pose, down_deg=78.0, elbow_deg=12.0) -> None:
    """Arms hanging by the sides (rotated down in the frontal plane), elbows slightly bent
    forward. Left arm points +X at rest: down is a negative turn about Z; the right mirrors."""
    p.set("LeftUpperArm", _rz(-down_deg))
    p.set("RightUpperArm", _rz(down_deg))
    p.set("LeftLowerArm", _ry(-elbow_deg))
    p.set("RightLowerArm", _ry(elbow_deg))


def _phase(t: np.ndarray, period: float) -> np.ndarray:
    """0 at t = 0, 1 at half a period, back to 0: ``(1 - cos(2 pi t / period)) / 2``."""
    return (1.0 - np.cos(2.0 * np.pi * t / period)) / 2.0


def _tpose(t: np.ndarray) -> tuple[_Pose, np.ndarray]:
    return _Pose(t.size), np.zeros((t.size, 3))


def _idle(t: np.ndarray) -> tuple[_Pose, np.ndarray]:
    p = _Pose(t.size)
    _relaxed_arms(p)
    return p, np.zeros((t.size, 3))


def _wave(t: np.ndarray) -> tuple[_Pose, np.ndarray]:
    """Right hand raised beside the head, forearm swinging side to side at 1.5 Hz; left arm relaxed."""
    p = _Pose(t.size)
    _relaxed_arms(p)
    raise_ = np.clip(t / 0.6, 0.0, 1.0)
    raise_ = raise_ * raise_ * (3 - 2 * raise_)  # smoothstep from arms down to the wave
    swing = 25.0 * np.sin(2.0 * np.pi * 1.5 * t) * raise_
    # Right arm points -X at rest; raising it towards +Y is a negative turn about Z.
    p.set("RightUpperArm", _rz(78.0 - 98.0 * raise_))
    p.set("RightLowerArm", _rz(-75.0 * raise_ + swing) * _ry(12.0 * (1 - raise_)))
    p.set("RightHand", _rz(0.3 * swing))
    return p, np.zeros((t.size, 3))


def _squat(t: np.ndarray, period: float = 2.5) -> tuple[_Pose, np.ndarray]:
    """Deep squats: thighs to about 95 degrees from vertical, trunk leaning 30 degrees, arms
    raised forward for balance, heels on the floor."""
    d = _phase(t, period)
    p = _Pose(t.size)
    lean, thigh, shank = 30.0 * d, 95.0 * d, 30.0 * d
    p.set("Hips", _rx(lean))  # +X turn tips +Y (up) towards +Z (forward)
    p.set("Spine", _rx(-0.3 * lean))
    for side in ("Left", "Right"):
        # thigh global = Rx(lean - local); a negative Rx swings the leg (-Y) forward (+Z).
        p.set(f"{side}UpperLeg", _rx(-(thigh + lean)))
        p.set(f"{side}LowerLeg", _rx(thigh + shank))  # knee bends: shank tilts back
        p.set(f"{side}Foot", _rx(-shank))  # foot stays flat on the floor
    p.set("LeftUpperArm", _ry(-85.0 * d) * _rz(-78.0 * (1 - d)))
    p.set("RightUpperArm", _ry(85.0 * d) * _rz(78.0 * (1 - d)))
    p.set("LeftLowerArm", _ry(-12.0 * (1 - d)))
    p.set("RightLowerArm", _ry(12.0 * (1 - d)))
    return p, np.zeros((t.size, 3))


def _jumping_jack(t: np.ndarray, period: float = 1.2) -> tuple[_Pose, np.ndarray]:
    """Jumping jacks: arms from the sides to overhead, legs apart, a small hop at each switch."""
    s = _phase(t, period)
    p = _Pose(t.size)
    p.set("LeftUpperArm", _rz(-78.0 + 158.0 * s))
    p.set("RightUpperArm", _rz(78.0 - 158.0 * s))
    p.set("LeftLowerArm", _ry(-12.0 * (1 - s)) * _rz(10.0 * s))
    p.set("RightLowerArm", _ry(12.0 * (1 - s)) * _rz(-10.0 * s))
    # Left leg (-Y) swings out to +X with a positive turn about Z; the foot turns back to stay level.
    p.set("LeftUpperLeg", _rz(16.0 * s))
    p.set("RightUpperLeg", _rz(-16.0 * s))
    p.set("LeftFoot", _rz(-16.0 * s))
    p.set("RightFoot", _rz(16.0 * s))
    root = np.zeros((t.size, 3))
    root[:, 1] = 0.07 * np.abs(np.sin(2.0 * np.pi * t / period))
    return p, root


def _turn(t: np.ndarray, period: float = 6.0) -> tuple[_Pose, np.ndarray]:
    """A slow full turn on the spot (360 degrees every ``period`` seconds), arms slightly out."""
    p = _Pose(t.size)
    _relaxed_arms(p, down_deg=60.0, elbow_deg=20.0)
    p.set("Hips", _ry(360.0 * t / period))
    return p, np.zeros((t.size, 3))


def _walk(t: np.ndarray, period: float = 1.1) -> tuple[_Pose, np.ndarray]:
    """Marching on the spot: knees raised in turn, arms swinging opposite to the legs."""
    w = np.sin(2.0 * np.pi * t / period)
    left, right = np.clip(w, 0, None), np.clip(-w, 0, None)
    p = _Pose(t.size)
    for side, lift in (("Left", left), ("Right", right)):
        p.set(f"{side}UpperLeg", _rx(-55.0 * lift))
        p.set(f"{side}LowerLeg", _rx(85.0 * lift))
        p.set(f"{side}Foot", _rx(-20.0 * lift))
    # A hanging arm (-Y) swings back (-Z) with a positive turn about X.
    p.set("LeftUpperArm", _rx(25.0 * w) * _rz(-78.0))
    p.set("RightUpperArm", _rx(-25.0 * w) * _rz(78.0))
    p.set("LeftLowerArm", _ry(-25.0))
    p.set("RightLowerArm", _ry(25.0))
    p.set("Spine", _ry(-6.0 * w))
    return p, np.zeros((t.size, 3))


def _ease(u: np.ndarray) -> np.ndarray:
    """0 at u <= 0, 1 at u >= 1, with zero speed and acceleration at both ends (quintic)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (u * (6.0 * u - 15.0) + 10.0)


def _spin(t: np.ndarray, period: float = 2.0, turn: float = 1.0) -> tuple[_Pose, np.ndarray]:
    """Pirouettes: standing on the left leg, the right foot drawn up to the left knee (passe),
    arms rounded in front of the chest, the body turns a full 360 degrees towards its left (a
    positive turn about the vertical) in ``turn`` seconds, then faces the camera until the
    next one, every ``period`` seconds. Peak turn rate 1.875 * 360 / turn degrees per second (675 at
    the default)."""
    k = np.floor(t / period)
    yaw = 360.0 * (k + _ease((t - k * period) / turn))
    p = _Pose(t.size)
    # Arms forward (a hanging-out arm turned about Y) and a little down, elbows bent inwards.
    p.set("LeftUpperArm", _ry(-70.0) * _rz(-20.0))
    p.set("RightUpperArm", _ry(70.0) * _rz(20.0))
    p.set("LeftLowerArm", _ry(-60.0))
    p.set("RightLowerArm", _ry(60.0))
    # Passe: thigh forward and out, knee bent so the foot comes to the standing knee.
    p.set("RightUpperLeg", _rx(-60.0) * _rz(-40.0) * _ry(-40.0))
    p.set("RightLowerLeg", _rx(110.0))
    p.set("Hips", _ry(yaw))
    return p, np.zeros((t.size, 3))


def _walk_angle(t: np.ndarray, period: float = 1.1, facing: float = 60.0) -> tuple[_Pose, np.ndarray]:
    """Walking on the spot seen at an angle: a walking stride (thighs swinging 28 degrees
    forward and back, the knee bending through the swing, arms swinging opposite) with the
    body turned ``facing`` degrees (to its left) away from the camera and a 5 degree
    hip sway with each step."""
    w = np.sin(2.0 * np.pi * t / period)
    c = np.cos(2.0 * np.pi * t / period)
    p = _Pose(t.size)
    p.set("LeftUpperLeg", _rx(-28.0 * w))
    p.set("RightUpperLeg", _rx(28.0 * w))
    p.set("LeftLowerLeg", _rx(30.0 * np.clip(-c, 0.0, None) + 5.0))
    p.set("RightLowerLeg", _rx(30.0 * np.clip(c, 0.0, None) + 5.0))
    p.set("LeftUpperArm", _rx(30.0 * w) * _rz(-80.0))
    p.set("RightUpperArm", _rx(-30.0 * w) * _rz(80.0))
    p.set("LeftLowerArm", _ry(-20.0))
    p.set("RightLowerArm", _ry(20.0))
    p.set("Hips", _ry(facing + 5.0 * w))
    return p, np.zeros((t.size, 3))


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def _align(a: np.ndarray, b: np.ndarray) -> Rotation:
    """The smallest rotation turning unit vector ``a`` onto unit vector ``b`` (not opposite)."""
    from scipy.spatial.transform import Rotation

    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    return Rotation.from_rotvec(axis / s * np.arctan2(s, c)) if s > 1e-12 else Rotation.identity()


#: Global orientation (stage frame) of a hand raised in front of the shoulder, fingers up
#: (+Y), palm to the front (+Z, the camera); the thumb points to the body's midline. Columns
#: are where the rest hand's X, Y and Z axes go.
_HAND_UP_PALM_FRONT = {
    "Left": np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]),
    "Right": np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]),
}


def _gestures(t: np.ndarray) -> tuple[_Pose, np.ndarray]:
    """Both hands raised in front of the shoulders, palms to the camera, fingers up, showing
    the gestures of :func:`arpose.performer.hands.gestures` (open, fist, point, pinch, wave;
    1.2 s each). The wave swings the wrists side to side about the palm normal."""
    from scipy.spatial.transform import Rotation

    from .hands import gestures

    flexion, abduction, wrist, labels = gestures(t)
    p = _Pose(t.size)
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        rest = np.array([sx, 0.0, 0.0])
        upper = _align(rest, _unit([sx * 0.3, -0.85, 0.35]))  # elbow down, out and forward
        fore = _align(rest, _unit([sx * 0.05, 0.75, 0.65]))  # forearm up and forward
        hand = Rotation.from_matrix(_HAND_UP_PALM_FRONT[side])
        p.set(f"{side}UpperArm", upper)
        p.set(f"{side}LowerArm", upper.inv() * fore)
        # the rest palm normal is -Y: a turn about Y swings the fingers in the palm's plane
        p.set(f"{side}Hand", fore.inv() * hand * _ry(sx * wrist))
    p.finger_flexion, p.finger_abduction, p.gestures = flexion, abduction, labels
    return p, np.zeros((t.size, 3))


@dataclass(frozen=True)
class ProceduralMotion:
    """A built-in motion: a closed-form function of time (any frame rate, any length).

    view: the motion's own ``(distance, camera_height)`` in metres (a close-up of the hands),
    used by :class:`~arpose.performer.PerformerSource` when no placement is given; None: the
    default full-body view."""

    name: str
    description: str
    function: Callable[[np.ndarray], tuple[_Pose, np.ndarray]]
    duration: float | None = None
    fps: float | None = None
    view: tuple[float, float] | None = None

    def sample(self, times: np.ndarray) -> MotionSample:
        """times: ``(F,)`` seconds from the motion's start."""
        t = np.asarray(times, dtype=np.float64).reshape(-1)
        pose, root = self.function(t)
        return MotionSample(
            local_rotations=pose.q,
            root_position=root,
            finger_flexion=pose.finger_flexion,
            finger_abduction=pose.finger_abduction,
            gestures=pose.gestures,
        )


#: The built-in motions by name (``arpose demo --motion NAME``).
PROCEDURAL: dict[str, ProceduralMotion] = {
    m.name: m
    for m in (
        ProceduralMotion("tpose", "static T-pose (arms out, the skeleton's rest pose)", _tpose),
        ProceduralMotion("idle", "standing still, arms relaxed", _idle),
        ProceduralMotion("wave", "right hand waving beside the head", _wave),
        ProceduralMotion("squat", "deep squats, one every 2.5 s", _squat),
        ProceduralMotion("jumping_jack", "jumping jacks, one every 1.2 s", _jumping_jack),
        ProceduralMotion("turn", "a slow full turn on the spot every 6 s", _turn),
        ProceduralMotion("walk", "marching on the spot", _walk),
        ProceduralMotion("spin", "pirouettes on one leg: a full turn in 1 s every 2 s", _spin),
        ProceduralMotion("walk_angle", "walking on the spot, body turned 60 degrees from the camera", _walk_angle),
        ProceduralMotion(
            "gestures",
            "hand gestures close up (open, fist, point, pinch, wave; 1.2 s each), palms to the camera",
            _gestures,
            view=(1.25, 1.45),
        ),
    )
}


def get_motion(spec: str) -> Motion:
    """A motion by built-in name or BVH file path (``*.bvh``).

    Raises :class:`ConfigError` for an unknown name and :class:`arpose.errors.InputError` for a
    BVH file that is missing or unreadable.
    """
    if spec.lower().endswith(".bvh"):
        from .bvh_motion import BvhMotion

        return BvhMotion.from_file(spec)
    key = spec.strip().lower().replace("-", "_")
    if key not in PROCEDURAL:
        raise ConfigError(f"unknown motion {spec!r}: use one of {', '.join(PROCEDURAL)} or a .bvh file")
    return PROCEDURAL[key]
