"""The synthetic performer: a procedural mannequin (trimesh) on the project's skeleton, driven
by built-in motions or BVH takes, rendered offscreen (pyrender, EGL) through a known camera,
with exact ground truth per frame. The demo input and the reference for ``arpose eval``.
"""

from .mannequin import MannequinConfig, build_parts
from .motions import PROCEDURAL, Motion, MotionSample, ProceduralMotion, get_motion
from .performer import GroundTruth, GroundTruthSequence, PerformerSource, Placement, pose_sequence

__all__ = [
    "PROCEDURAL",
    "GroundTruth",
    "GroundTruthSequence",
    "MannequinConfig",
    "Motion",
    "MotionSample",
    "PerformerSource",
    "Placement",
    "ProceduralMotion",
    "build_parts",
    "get_motion",
    "pose_sequence",
]
