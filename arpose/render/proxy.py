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


_CAP_A = np.array([BONE_INDEX[c.a] for c in CAPSULES], dtype=np.intp)
_CAP_B = np.array([BONE_INDEX[c.b] if c.b else -1 for c in CAPSULES], dtype=np.intp)
_CAP_R = np.array([c.radius for c in CAPSULES])


def rotations_z_to(d: np.ndarray) -> np.ndarray:
    """``(K, 3, 3)``: for each unit vector ``d[k]`` the shortest rotation taking +Z to it
    (Rodrigues; a half turn about X when ``d[k]`` is -Z)."""
    d = np.asarray(d, dtype=np.float64).reshape(-1, 3)
    c = d[:, 2]
    vx, vy = -d[:, 1], d[:, 0]  # z cross d = (-dy, dx, 0)
    k = np.zeros((len(d), 3, 3))
    k[:, 0, 2], k[:, 1, 2], k[:, 2, 0], k[:, 2, 1] = vy, -vx, -vy, vx
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.eye(3) + k + (k @ k) / (1.0 + c)[:, None, None]
    r[c < -1.0 + 1e-9] = np.diag([1.0, -1.0, -1.0])
    return r


def rotation_z_to(d: np.ndarray) -> np.ndarray:
    """``(3, 3)`` the shortest rotation taking +Z to the unit vector ``d``."""
    return rotations_z_to(d)[0]


def _matrices(rot_scale: np.ndarray, centre: np.ndarray) -> np.ndarray:
    m = np.zeros((len(centre), 4, 4))
    m[:, :3, :3] = rot_scale
    m[:, :3, 3] = centre
    m[:, 3, 3] = 1.0
    return m


def proxy_shapes(frames: BodyFrames, inflate: float = 1.0) -> dict[str, np.ndarray]:
    """The proxy posed on a body: ``{"cylinder": (K, 4, 4), "sphere": (M, 4, 4)}`` matrices
    mapping the unit cylinder (radius 1, height 1 along Z, centred at the origin) and the unit
    sphere into *world*: a cylinder per capsule plus a sphere at every capsule end (the
    largest radius meeting there), and the head's ellipsoid. Capsules whose bones are unknown
    are left out. ``inflate`` multiplies every radius (not lengths)."""
    s = frames.scale
    pos = frames.positions
    p = pos[_CAP_A]
    q = np.where((_CAP_B >= 0)[:, None], pos[np.maximum(_CAP_B, 0)], np.nan)
    for k in np.flatnonzero(_CAP_B < 0):  # leaf capsules run to the bone's end site
        ia = _CAP_A[k]
        if frames.valid(ia):
            q[k] = p[k] + Rotation.from_quat(frames.rotations[ia]).apply(END_OFFSETS[ia] * s)
    ok = np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1)
    p, q, r = p[ok], q[ok], _CAP_R[ok] * s * inflate
    d = q - p
    length = np.maximum(np.linalg.norm(d, axis=1), 1e-9)
    cyl = _matrices(rotations_z_to(d / length[:, None]) * np.stack([r, r, length], axis=1)[:, None, :], 0.5 * (p + q))
    # one sphere per distinct capsule end: joints by bone index, leaf ends on their own
    ends_b = np.where(_CAP_B[ok] >= 0, _CAP_B[ok], -1 - np.arange(ok.sum()))
    keys = np.concatenate([_CAP_A[ok], ends_b])
    points = np.concatenate([p, q])
    radii = np.concatenate([r, r])
    uniq, inv = np.unique(keys, return_inverse=True)
    rad = np.zeros(len(uniq))
    np.maximum.at(rad, inv, radii)
    first = np.zeros(len(uniq), dtype=np.intp)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    spheres = [_matrices(np.eye(3)[None] * rad[:, None, None], points[first])]
    ih = BONE_INDEX["Head"]
    if frames.valid(ih):
        rot = Rotation.from_quat(frames.rotations[ih]).as_matrix()
        c = frames.positions[ih] + rot @ (np.asarray(HEAD_CENTER) * s)
        spheres.append(_matrices((rot * (np.asarray(HEAD_RADII) * s))[None], c[None]))
    return {"cylinder": cyl, "sphere": np.concatenate(spheres)}
