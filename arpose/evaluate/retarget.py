"""Retargeting scores against the synthetic performer's ground truth: joint-angle error,
bone-rotation error, the root's position and orientation error in camera space, and the
largest bone step (how far any bone turns between two frames: a snap shows there).

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


#: How much more than the truth's largest bone step a retargeted step may be (degrees).
STEP_MARGIN_DEG = 20.0
#: For a real clip (no truth): the turn speed standing in for the truth's largest step,
#: degrees per second. About the fastest bone of the performer's built-in motions' truth (the
#: walk's shins, 16.1 degrees a frame at 30 fps = 483 degrees per second).
REFERENCE_TURN_SPEED = 500.0


def bone_steps(local_rotations: np.ndarray) -> np.ndarray:
    """``(F - 1, B)`` degrees each bone turns between consecutive frames of ``(F, B, 4)``
    local rotations ``(x, y, z, w)`` (NaN where either frame is NaN; ``q`` and ``-q`` are the
    same rotation)."""
    q = np.asarray(local_rotations, dtype=np.float64)
    if q.ndim != 3 or q.shape[-1] != 4:
        raise ValueError(f"local_rotations must be (F, B, 4), got {q.shape}")
    return geodesic_degrees(q[1:], q[:-1])


def largest_step(local_rotations: np.ndarray) -> float:
    """The largest of :func:`bone_steps` (degrees); NaN with nothing to compare."""
    s = bone_steps(local_rotations)
    return float(np.nanmax(s)) if np.isfinite(s).any() else float("nan")


def step_bound(frame_time: float, truth_largest: float | None = None) -> float:
    """The largest bone step allowed (degrees): the truth's largest step plus
    :data:`STEP_MARGIN_DEG`; for a real clip (``truth_largest`` None) the truth's is
    :data:`REFERENCE_TURN_SPEED` times ``frame_time`` (seconds between frames)."""
    if truth_largest is None:
        truth_largest = REFERENCE_TURN_SPEED * frame_time
    return truth_largest + STEP_MARGIN_DEG


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
    reprojection error; ``bone_step_max_deg``: the largest turn of any bone's local rotation
    between consecutive frames (:func:`largest_step`; a snap after an occlusion shows here) and
    ``bone_step_max_gt_deg``: the truth's largest.
    """
    people = _bodies(result, truth)
    n = len(truth)
    pred = np.full((n, len(ANGLE_NAMES)), np.nan)
    rot_err = np.full((n, NUM_BONES), np.nan)
    local = np.full((n, NUM_BONES, 4), np.nan)
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
        local[f] = b.local_rotations
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
        "bone_step_max_deg": largest_step(local),
        "bone_step_max_gt_deg": largest_step(truth.local_rotations),
    }
