"""Retargeting scores against the synthetic performer's ground truth: joint-angle error,
bone-rotation error and the root's position and orientation error in camera space.

:func:`retarget_metrics` is one of :func:`arpose.evaluate.harness.default_metrics`. Variants
whose people carry no :class:`~arpose.retarget.BodyPose` (no retarget stage) are retargeted
here with a fresh :class:`~arpose.retarget.RetargetStage` (default settings) and the
performer's camera, so every variant gets these columns.

Frames: *world* is the camera-attached rig frame shared by :class:`BodyPose` and the
performer's ground truth (+X image right, +Y camera up, +Z towards the camera, metres).
Quaternions ``(x, y, z, w)``. Joint angles as in :mod:`arpose.retarget.angles` (degrees).
"""

from __future__ import annotations

import numpy as np

from ..performer import GroundTruthSequence
from ..retarget import ANGLE_NAMES, RetargetStage, joint_angles
from ..retarget.geometry import geodesic_degrees
from ..skeleton import NUM_BONES
from .harness import VariantResult


def angle_errors(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(F, A)`` absolute joint-angle errors in degrees; NaN where either is NaN.
    pred, truth: ``(F, A)`` degrees, columns in the same order (e.g. :data:`ANGLE_NAMES`)."""
    return np.abs(np.asarray(pred, dtype=np.float64) - np.asarray(truth, dtype=np.float64))


def truth_angles(truth: GroundTruthSequence) -> np.ndarray:
    """``(F, A)`` joint angles of the ground-truth markers (*world*, +Y up)."""
    return np.array([[joint_angles(m)[n] for n in ANGLE_NAMES] for m in truth.markers_world])


def _nanmedian(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else float("nan")


def _nanp95(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(np.percentile(a, 95)) if a.size else float("nan")


def _bodies(result: VariantResult, truth: GroundTruthSequence) -> list:
    """The first person per frame, retargeted here if the variant did not."""
    people = result.people()
    if any(p is not None and p.body is not None for p in people):
        return people
    stage = RetargetStage(camera=truth.camera)
    out = []
    for pf in result.pose_frames:
        pf = stage.process(pf)
        out.append(pf.people[0] if pf.people else None)
    return out


def retarget_metrics(
    result: VariantResult, truth: GroundTruthSequence, *, baseline: VariantResult | None = None
) -> dict[str, float]:
    """Columns (medians over frames with a person, NaN when nothing to score; ``baseline`` is
    not used):

    ``angle_err_deg`` / ``angle_err_p95_deg``: joint-angle error over all :data:`ANGLE_NAMES`;
    ``elbow_knee_err_deg``: elbows and knees only; ``bone_rot_err_deg``: global bone rotation
    error (all bones, includes the root orientation); ``root_rot_err_deg``: body orientation in
    camera space; ``root_pos_err_m``: Hips position error in camera space (metres) and
    ``root_depth_err_m`` its distance-from-camera part; ``reproj_px``: the root fit's RMS
    reprojection error.
    """
    people = _bodies(result, truth)
    n = len(truth)
    pred = np.full((n, len(ANGLE_NAMES)), np.nan)
    rot_err = np.full((n, NUM_BONES), np.nan)
    root_rot = np.full(n, np.nan)
    root_pos = np.full((n, 3), np.nan)
    reproj = np.full(n, np.nan)
    for f, p in enumerate(people[:n]):
        if p is None:
            continue
        if p.angles is not None:
            pred[f] = [p.angles.get(k, np.nan) for k in ANGLE_NAMES]
        b = p.body
        if b is None:
            continue
        if b.rotations is not None:
            rot_err[f] = geodesic_degrees(b.rotations, truth.joint_rotations[f])
        root_rot[f] = geodesic_degrees(b.root_rotation, truth.local_rotations[f, 0])
        root_pos[f] = np.asarray(b.root_position, dtype=np.float64) - truth.root_position[f]
        reproj[f] = b.reprojection_error_px
    err = angle_errors(pred, truth_angles(truth))
    limb = [ANGLE_NAMES.index(k) for k in ("left_elbow", "right_elbow", "left_knee", "right_knee")]
    return {
        "angle_err_deg": _nanmedian(err),
        "angle_err_p95_deg": _nanp95(err),
        "elbow_knee_err_deg": _nanmedian(err[:, limb]),
        "bone_rot_err_deg": _nanmedian(rot_err),
        "root_rot_err_deg": _nanmedian(root_rot),
        "root_pos_err_m": _nanmedian(np.linalg.norm(root_pos, axis=1)),
        "root_depth_err_m": _nanmedian(np.abs(root_pos[:, 2])),
        "reproj_px": _nanmedian(reproj),
    }
