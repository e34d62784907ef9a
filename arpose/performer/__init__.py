"""The synthetic performer: a procedural mannequin (trimesh) on the project's skeleton, driven
by built-in motions or BVH takes, rendered offscreen (pyrender, EGL) through a known camera,
with exact ground truth per frame. The demo input and the reference for ``arpose eval``.

Names are imported on first use (PEP 562), so ``arpose --help`` loads no trimesh or renderer.
"""

from __future__ import annotations

from .._lazy import lazy_exports

#: Public name -> the submodule that defines it.
_EXPORTS = {
    "MannequinConfig": ".mannequin",
    "build_parts": ".mannequin",
    "PROCEDURAL": ".motions",
    "Motion": ".motions",
    "MotionSample": ".motions",
    "ProceduralMotion": ".motions",
    "get_motion": ".motions",
    "GroundTruth": ".performer",
    "GroundTruthSequence": ".performer",
    "PerformerSource": ".performer",
    "Placement": ".performer",
    "pose_sequence": ".performer",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
