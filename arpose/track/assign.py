"""Pure matching of tracked people to new detections (no state).

Points are image landmarks in **pixels** (x right, y down) so distances are isotropic;
a landmark counts only where its visibility is at least ``min_visibility``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..landmarks import VISIBILITY


def visible_points(landmarks: np.ndarray, size: tuple[int, int], min_visibility: float) -> np.ndarray:
    """``(33, 2)`` float64 pixel positions of ``(33, 5)`` normalised image landmarks, NaN where
    the visibility is below ``min_visibility`` or unknown. ``size`` is ``(width, height)``."""
    lm = np.asarray(landmarks, dtype=np.float64)
    pts = lm[:, :2] * np.asarray(size, dtype=np.float64)
    vis = lm[:, VISIBILITY]
    pts[~(vis >= min_visibility)] = np.nan  # NaN visibility counts as not visible
    return pts


def box_of(points: np.ndarray) -> np.ndarray:
    """``(4,)`` ``[x0, y0, x1, y1]`` bounding box of the finite rows of ``(N, 2)`` points; all NaN
    if none is finite."""
    ok = np.isfinite(points).all(axis=1)
    if not ok.any():
        return np.full(4, np.nan)
    p = points[ok]
    return np.concatenate([p.min(axis=0), p.max(axis=0)])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``[x0, y0, x1, y1]`` boxes; 0 if either is NaN or empty."""
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def landmark_distance(a: np.ndarray, b: np.ndarray, min_common: int = 4) -> float:
    """Mean pixel distance between the landmarks seen in both ``(33, 2)`` arrays, divided by the
    diagonal of ``a``'s box (so the value is scale-free: 0.1 means a tenth of the body size).
    ``inf`` when fewer than ``min_common`` landmarks are seen in both."""
    both = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if both.sum() < min_common:
        return float("inf")
    box = box_of(a)
    diag = float(np.hypot(box[2] - box[0], box[3] - box[1]))
    if not diag > 0:
        return float("inf")
    return float(np.linalg.norm(a[both] - b[both], axis=1).mean() / diag)


def cost_matrix(
    tracks: list[np.ndarray],
    detections: list[np.ndarray],
    landmark_weight: float = 1.0,
    box_weight: float = 1.0,
    min_common: int = 4,
) -> np.ndarray:
    """``(T, D)`` matching costs between tracked and detected ``(33, 2)`` pixel landmark arrays.

    cost = ``landmark_weight * landmark_distance + box_weight * (1 - IoU)``; ``inf`` where the two
    share too few visible landmarks (then only boxes compare: ``box_weight * (1 - IoU)`` + 1 when
    the boxes overlap at all, else ``inf``).
    """
    cost = np.full((len(tracks), len(detections)), np.inf)
    boxes_t = [box_of(t) for t in tracks]
    boxes_d = [box_of(d) for d in detections]
    for i, t in enumerate(tracks):
        for j, d in enumerate(detections):
            overlap = iou(boxes_t[i], boxes_d[j])
            dist = landmark_distance(t, d, min_common)
            if np.isfinite(dist):
                cost[i, j] = landmark_weight * dist + box_weight * (1.0 - overlap)
            elif overlap > 0:
                cost[i, j] = landmark_weight + box_weight * (1.0 - overlap)
    return cost


def assign(cost: np.ndarray, max_cost: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Minimum-cost one-to-one matching (Hungarian, ``scipy.optimize.linear_sum_assignment``).

    cost: ``(T, D)`` with ``inf`` for forbidden pairs. Pairs costing more than ``max_cost`` are
    not matched. Returns ``(pairs, unmatched_rows, unmatched_cols)``; pairs are ``(row, col)``
    sorted by row.
    """
    cost = np.asarray(cost, dtype=np.float64)
    n_rows, n_cols = cost.shape
    if n_rows == 0 or n_cols == 0:
        return [], list(range(n_rows)), list(range(n_cols))
    gated = np.where(np.isfinite(cost) & (cost <= max_cost), cost, max_cost * 2.0 + 1.0)
    rows, cols = linear_sum_assignment(gated)
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] <= max_cost]
    matched_r = {r for r, _ in pairs}
    matched_c = {c for _, c in pairs}
    return (
        sorted(pairs),
        [r for r in range(n_rows) if r not in matched_r],
        [c for c in range(n_cols) if c not in matched_c],
    )
