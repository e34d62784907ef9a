"""A depth-only body proxy: capsules fitted to the skeleton (and an ellipsoid head) whose
depth decides which parts of a prop the body hides (a cape behind the torso, the back of a
crown behind the head).

Geometry is in the bone frames of :mod:`arpose.skeleton` (rig axes at rest, metres, default
1.72 m body) and is posed with :class:`arpose.render.frames.BodyFrames` into *world* (the
camera-attached rig frame: +X image right, +Y up, +Z towards the camera). Sizes scale with
the body. The segmentation mask, when present, trims the proxy to the true silhouette, so the
radii are generous rather than tight.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..skeleton import BONE_INDEX, END_OFFSETS
from .frames import BodyFrames


@dataclass(frozen=True)
class Capsule:
    """A capsule from bone ``a``'s joint to bone ``b``'s joint (or ``a``'s end site when ``b``
    is None), ``radius`` metres for the default body."""

    a: str
    b: str | None
    radius: float


#: The proxy's capsules. Torso: the spine plus a capsule down each flank (shoulder to hip).
CAPSULES: tuple[Capsule, ...] = (
    Capsule("Hips", "Neck", 0.11),
    Capsule("LeftUpperArm", "LeftUpperLeg", 0.08),
    Capsule("RightUpperArm", "RightUpperLeg", 0.08),
    Capsule("LeftUpperLeg", "RightUpperLeg", 0.09),
    Capsule("Neck", "Head", 0.055),
    Capsule("LeftUpperArm", "LeftLowerArm", 0.05),
    Capsule("LeftLowerArm", "LeftHand", 0.04),
    Capsule("LeftHand", None, 0.04),
    Capsule("RightUpperArm", "RightLowerArm", 0.05),
    Capsule("RightLowerArm", "RightHand", 0.04),
    Capsule("RightHand", None, 0.04),
    Capsule("LeftUpperLeg", "LeftLowerLeg", 0.075),
    Capsule("LeftLowerLeg", "LeftFoot", 0.055),
    Capsule("LeftFoot", "LeftToes", 0.045),
    Capsule("RightUpperLeg", "RightLowerLeg", 0.075),
    Capsule("RightLowerLeg", "RightFoot", 0.055),
    Capsule("RightFoot", "RightToes", 0.045),
)

#: The head: an ellipsoid in the Head bone's frame, centre and semi-axes (x, y, z) in metres.
#: The face is flatter than the skull's width so that glasses (about 10 cm in front of the
#: ear centre) stay in front of it.
HEAD_CENTER = (0.0, 0.03, -0.005)
HEAD_RADII = (0.08, 0.105, 0.088)


def _segment_matrix(p: np.ndarray, q: np.ndarray, r: float) -> np.ndarray:
    """Unit cylinder (radius 1, height 1 along Z, centred) to the cylinder from p to q."""
    d = q - p
    length = float(np.sqrt(d @ d))
    m = np.eye(4)
    if length < 1e-9:
        m[:3, :3] = np.diag([r, r, 1e-6])
    else:
        m[:3, :3] = rotation_z_to(d / length) * np.array([r, r, length])
    m[:3, 3] = 0.5 * (p + q)
    return m


def rotation_z_to(d: np.ndarray) -> np.ndarray:
    """``(3, 3)`` the shortest rotation taking +Z to the unit vector ``d`` (Rodrigues; a half
    turn about X when ``d`` is -Z)."""
    c = float(d[2])
    if c < -1.0 + 1e-9:
        return np.diag([1.0, -1.0, -1.0])
    vx, vy = -d[1], d[0]  # z cross d = (-dy, dx, 0)
    k = np.array([[0.0, 0.0, vy], [0.0, 0.0, -vx], [-vy, vx, 0.0]])
    return np.eye(3) + k + (k @ k) / (1.0 + c)


def _sphere_matrix(c: np.ndarray, radii, rotation: np.ndarray | None = None) -> np.ndarray:
    m = np.eye(4)
    rot = np.eye(3) if rotation is None else rotation
    m[:3, :3] = rot * np.asarray(radii, dtype=np.float64)
    m[:3, 3] = c
    return m


def proxy_shapes(frames: BodyFrames, inflate: float = 1.0) -> list[tuple[str, np.ndarray]]:
    """The proxy posed on a body: ``[(kind, matrix (4, 4))]`` with kind ``"cylinder"`` (the
    unit cylinder: radius 1, height 1 along Z, centred at the origin) or ``"sphere"`` (the unit
    sphere), each matrix mapping the unit shape into *world*. Capsules whose bones are unknown
    are left out. ``inflate`` multiplies every radius (not lengths)."""
    s = frames.scale
    out: list[tuple[str, np.ndarray]] = []
    spheres: dict[tuple[float, ...], float] = {}
    for cap in CAPSULES:
        ia = BONE_INDEX[cap.a]
        p = frames.positions[ia]
        if cap.b is None:
            if not frames.valid(ia):
                continue
            q = p + Rotation.from_quat(frames.rotations[ia]).apply(END_OFFSETS[ia] * s)
        else:
            q = frames.positions[BONE_INDEX[cap.b]]
        if not (np.isfinite(p).all() and np.isfinite(q).all()):
            continue
        r = cap.radius * s * inflate
        out.append(("cylinder", _segment_matrix(p, q, r)))
        for end in (p, q):
            key = tuple(np.round(end, 6))
            spheres[key] = max(spheres.get(key, 0.0), r)
    for key, r in spheres.items():
        out.append(("sphere", _sphere_matrix(np.array(key), (r, r, r))))
    ih = BONE_INDEX["Head"]
    if frames.valid(ih):
        rot = Rotation.from_quat(frames.rotations[ih]).as_matrix()
        c = frames.positions[ih] + rot @ (np.asarray(HEAD_CENTER) * s)
        out.append(("sphere", _sphere_matrix(c, np.asarray(HEAD_RADII) * s, rot)))
    return out
