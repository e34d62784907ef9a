"""Global bone frames for rendering: where each bone of :mod:`arpose.skeleton` is and how it
is turned in the frame the overlays are drawn in.

Frame of reference (everything here)
------------------------------------
The camera-attached rig *world* of :class:`arpose.retarget.BodyPose`: metres, right-handed,
+X the image's right, +Y the camera's up, +Z towards the camera (out of the screen). This is
exactly OpenGL's camera frame with the camera at the origin, so the renderer uses an identity
camera pose. ``world = MP_TO_RIG @ opencv_camera`` (:data:`arpose.skeleton.MP_TO_RIG`).
A bone's rotation maps its rest frame (rig axes at the T-pose: +Y up, +Z the subject's
forward, +X the subject's left) into *world*. Quaternions ``(x, y, z, w)``.

Bones come from a :class:`arpose.retarget.BodyPose` by forward kinematics of its local
rotations (:meth:`BodyFrames.from_body`). A person without one (no retarget stage ran, e.g.
``--no-retarget``) is retargeted here by the retargeting package itself,
:func:`arpose.retarget.body_for_person`, from that frame alone (:meth:`BodyFrames.from_person`):
the same solver and root fit as the stage, with no state between frames, so a pipeline with
the retarget stage gives steadier bones (calibrated lengths, held bones, smoothed depth,
grounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..retarget import BodyPose, RetargetConfig, body_for_person
from ..skeleton import MP_TO_RIG, NUM_BONES, PARENTS, REST_OFFSETS
from ..types import Camera, Person

_IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])
#: Hip centre to shoulder centre of the default skeleton (metres): the body's scale unit.
_REST_TORSO = float(np.linalg.norm(REST_OFFSETS[1:5].sum(axis=0)))


@dataclass(frozen=True)
class BodyFrames:
    """One person's bones in *world* (see the module docstring).

    positions: ``(B, 3)`` metres, each bone's joint; NaN rows where unknown.
    rotations: ``(B, 4)`` global rotations ``(x, y, z, w)``; NaN rows where unknown.
    local_rotations: ``(B, 4)`` each bone relative to its parent (identity where unknown),
        the root's relative to *world*; what drives the avatar.
    scale: the body's size relative to the default 1.72 m skeleton (1.0 = default).
    landmarks: ``(33, 3)`` the BlazePose landmarks in *world*, metres, or ``None``.
    """

    positions: np.ndarray
    rotations: np.ndarray
    local_rotations: np.ndarray
    scale: float
    landmarks: np.ndarray | None = None

    def valid(self, bone: int) -> bool:
        """True when bone ``bone`` (index) has a finite position and rotation."""
        return bool(np.isfinite(self.positions[bone]).all() and np.isfinite(self.rotations[bone]).all())

    @classmethod
    def from_body(cls, body: BodyPose, person: Person | None = None) -> "BodyFrames":
        """From a :class:`arpose.retarget.BodyPose`. ``person`` (optional) supplies the world
        landmarks, placed with the body's root (MediaPipe's world origin is the hip centre,
        the Hips joint)."""
        offsets = np.asarray(body.offsets, dtype=np.float64)
        local = np.asarray(body.local_rotations, dtype=np.float64)
        root = np.asarray(body.root_position, dtype=np.float64)
        if not (np.isfinite(local).all() and np.isfinite(root).all()):
            nan = np.full((NUM_BONES, 3), np.nan)
            return cls(nan, np.full((NUM_BONES, 4), np.nan), np.tile(_IDENTITY, (NUM_BONES, 1)), 1.0, None)
        rotations = global_rotations(local)
        positions = np.asarray(body.positions, dtype=np.float64)
        torso = float(np.linalg.norm(offsets[1:5].sum(axis=0)))
        scale = torso / _REST_TORSO if np.isfinite(torso) and torso > 0 else 1.0
        lms = None
        if person is not None and person.world is not None and np.isfinite(person.world).all():
            lms = np.asarray(person.world, dtype=np.float64) @ MP_TO_RIG.T + root
        return cls(positions, rotations, local, scale, lms)

    @classmethod
    def from_person(cls, person: Person, camera: Camera, config: RetargetConfig = RetargetConfig()) -> "BodyFrames":
        """:meth:`from_body` of the person's retargeted body, or, when it has none, of
        :func:`arpose.retarget.body_for_person` (this frame alone, ``config``; ``camera``: the
        intrinsics for the root fit, sized like the image). Bones whose landmarks are below
        ``config.solver.min_visibility`` take their rest rotation relative to the parent; without a
        root fit every row is NaN."""
        body = person.body if person.body is not None else body_for_person(person, camera, config)
        return cls.from_body(body, person)


def global_rotations(local_rotations: np.ndarray) -> np.ndarray:
    """``(B, 4)`` global rotations ``(x, y, z, w)`` from ``(B, 4)`` local ones: the rotation
    half of :func:`arpose.skeleton.forward_kinematics` (one scipy conversion each way and a
    matrix product per bone, for the renderer's per-frame budget)."""
    local = Rotation.from_quat(local_rotations).as_matrix()
    out = np.empty_like(local)
    for i in range(NUM_BONES):
        p = PARENTS[i]
        out[i] = local[i] if p < 0 else out[p] @ local[i]
    return Rotation.from_matrix(out).as_quat()
