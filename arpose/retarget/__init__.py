"""Retargeting: landmarks to a humanoid skeleton (bone rotations, root 6D pose, joint
angles, foot grounding). The output contract is :class:`BodyPose`.

Conventions (details in each module and ``docs/retargeting.md``)
----------------------------------------------------------------
* Rig frame (:mod:`arpose.skeleton`): metres, right-handed, +Y up, +Z the subject's forward,
  +X the subject's left; identity rotations = T-pose. MediaPipe world -> rig axes:
  ``MP_TO_RIG = diag(1, -1, -1)`` (a subject facing the camera has identity root rotation).
* *World* of :class:`BodyPose`: camera-attached rig axes (+X image right, +Y camera up, +Z
  towards the camera); ``camera = MP_TO_RIG @ world`` is OpenCV's camera frame.
* Quaternions ``(x, y, z, w)``; local = parent^-1 * global; signs continuous over time.
* ``LEFT_*`` / ``Left*`` always mean the subject's left. A mirrored (selfie) image swaps
  which side of the *image* the subject's left appears on, not which landmark is left.

Modules: :mod:`.solver` (pure per-region solvers, :func:`solve`), :mod:`.calibrate` (bone
lengths), :mod:`.root` (PnP root pose), :mod:`.angles` (joint angles + CSV), :mod:`.grounding`
(floor, contacts), :mod:`.stage` (per-person state, the pipeline stage; :func:`body_for_person`,
the same for one frame without state).
"""

from .angles import ANGLE_NAMES, AnglesCsvWriter, joint_angles
from .body import BodyPose
from .calibrate import BoneCalibrator, CalibrationConfig
from .grounding import FootGrounder, GroundingConfig
from .root import RootFit, RootFitConfig, fit_root_pose
from .solver import SolverConfig, mp_world_to_rig, solve
from .stage import RetargetConfig, Retargeter, RetargetStage, body_for_person

__all__ = [
    "ANGLE_NAMES",
    "AnglesCsvWriter",
    "BodyPose",
    "BoneCalibrator",
    "CalibrationConfig",
    "FootGrounder",
    "GroundingConfig",
    "RetargetConfig",
    "RetargetStage",
    "Retargeter",
    "RootFit",
    "RootFitConfig",
    "SolverConfig",
    "body_for_person",
    "fit_root_pose",
    "joint_angles",
    "mp_world_to_rig",
    "solve",
]
