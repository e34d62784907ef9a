"""Retargeting: landmarks to a humanoid skeleton (bone rotations, root 6D pose, joint
angles, foot grounding). The output contract is :class:`BodyPose`."""
from .body import BodyPose

__all__ = ["BodyPose"]
