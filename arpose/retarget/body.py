"""The retargeting output shared by VMC, BVH/takes and overlays.

Frames: *world* here is the camera-attached rig frame: metres, right-handed, +Y the camera's
up, +Z towards the camera (out of the screen), +X the image's right, i.e.
``world = MP_TO_RIG @ camera`` (:data:`arpose.skeleton.MP_TO_RIG`). A subject facing the
camera has root rotation identity (the avatar faces +Z, towards the viewer), with their left
(+X rig) on the image's right. Quaternions ``(x, y, z, w)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from ..skeleton import MP_TO_RIG, NUM_BONES


@dataclass(frozen=True)
class BodyPose:
    """One person's retargeted skeleton in one frame.

    local_rotations: ``(B, 4)`` quaternions ``(x, y, z, w)``, each bone relative to its parent
        in the rig convention of :mod:`arpose.skeleton` (identity = T-pose rest). The root's
        (Hips) is the body's orientation in *world*.
    root_position: ``(3,)`` metres, the Hips joint in *world* (NaN components if unknown).
    positions: ``(B, 3)`` metres, global joint positions in *world* (forward kinematics of
        ``local_rotations`` with ``offsets`` from ``root_position``).
    offsets: ``(B, 3)`` metres, the person's calibrated rest offsets (rig frame).
    bone_confidence: ``(B,)`` in [0, 1], from the visibility of the landmarks each bone uses
        (bones below the solver's threshold hold their rest or previous rotation).
    reprojection_error_px: RMS pixel error of the root-pose fit (NaN if not fitted).
    foot_contact: ``(2,)`` bool, (left, right) foot in contact with the floor.
    floor_height: the floor's Y in *world* metres (NaN if not yet estimated).
    rotations: ``(B, 4)`` global bone rotations ``(x, y, z, w)`` in *world* (forward
        kinematics of ``local_rotations``), or ``None`` if the producer did not fill them.
    settled: False while the producer is still starting up (a person's first frames, whose
        root and body are not yet steady: :attr:`arpose.retarget.RetargetConfig.settle_seconds`);
        streams announce themselves calibrated and send poses only once it is True.
    """

    local_rotations: np.ndarray
    root_position: np.ndarray
    positions: np.ndarray
    offsets: np.ndarray
    bone_confidence: np.ndarray
    reprojection_error_px: float = float("nan")
    foot_contact: np.ndarray = field(default_factory=lambda: np.zeros(2, dtype=bool))
    floor_height: float = float("nan")
    rotations: np.ndarray | None = None
    settled: bool = True

    def __post_init__(self) -> None:
        if np.shape(self.local_rotations) != (NUM_BONES, 4):
            raise ValueError(f"local_rotations must be ({NUM_BONES}, 4), got {np.shape(self.local_rotations)}")

    @property
    def root_rotation(self) -> np.ndarray:
        """``(4,)`` body orientation in *world* (the Hips' local rotation)."""
        return self.local_rotations[0]

    @property
    def camera_translation(self) -> np.ndarray:
        """``(3,)`` Hips position in the OpenCV camera frame (x right, y down, z forward), metres."""
        return MP_TO_RIG @ np.asarray(self.root_position, dtype=np.float64)

    @property
    def camera_rotation(self) -> np.ndarray:
        """``(4,)`` rotation taking rig-frame body axes to the OpenCV camera frame:
        ``R_cam = MP_TO_RIG @ R_root`` (MP_TO_RIG is its own inverse)."""
        r = Rotation.from_matrix(MP_TO_RIG) * Rotation.from_quat(self.root_rotation)
        return r.as_quat()

    def camera_points(self, points_world: np.ndarray) -> np.ndarray:
        """``(N, 3)`` *world* points to the OpenCV camera frame (metres)."""
        return np.asarray(points_world, dtype=np.float64) @ MP_TO_RIG.T
