"""Left/right swaps against the performer's ground truth (docs/tracking.md).

Definitions (image landmarks in pixels, x right, y down; ``LEFT`` is the subject's left):

* **Limb error** of a frame: the mean pixel distance to the true markers over the 22 sided
  body landmarks :data:`arpose.track.swaps.SIDED_BODY` (shoulders, elbows, wrists, hands, hips,
  knees, ankles, heels, toes). The **exchanged estimate** is the frame with every left/right
  pair exchanged (:func:`arpose.track.swaps.exchange_arrays`).
* A frame is **swapped** when its exchanged estimate is much closer to the truth: its limb
  error is under ``ratio`` (0.5) times the estimate's *and* smaller by more than ``margin``
  (0.1) torso sizes (the true markers' mean shoulder-to-opposite-hip distance). The margin
  keeps out profile views, where both sides overlap and either labelling is about as good.
  Frames without a person are not swapped.
* **Limb PCK@0.2**: PCK@0.2 (:func:`arpose.evaluate.metrics.pck`) over the same 22 landmarks.
* The **oracle** takes, in each frame, the raw estimate or its exchange, whichever has the
  lower limb error: the best any per-frame left/right decision could do.
* **Recovery**: ``(row - raw) / (oracle - raw)`` of limb PCK@0.2: the share of the oracle's
  gain over raw that a row achieves (NaN when the oracle gains less than 0.001, i.e. raw has
  nothing to recover).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..landmarks import MIRROR_PERMUTATION
from ..track.swaps import SIDED_BODY
from . import metrics as M

if TYPE_CHECKING:
    from ..performer import GroundTruthSequence
    from .harness import VariantResult

__all__ = ["limb_errors", "swapped_frames", "oracle_px", "limb_pck", "swap_metrics", "SWAP_RATIO", "SWAP_MARGIN"]

#: A frame is swapped when its exchange's limb error is under this fraction of the estimate's ...
SWAP_RATIO = 0.5
#: ... and smaller by more than this many torso sizes.
SWAP_MARGIN = 0.1
#: Smallest oracle gain in limb PCK for which recovery is reported.
MIN_ORACLE_GAIN = 0.001

_LIMBS = np.array(SIDED_BODY, dtype=np.intp)


def limb_errors(pred_px: np.ndarray, gt_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(estimate, exchanged)``: ``(F,)`` mean pixel error over the sided body landmarks of
    ``pred_px`` and of its left/right exchange, against ``gt_px``; both ``(F, 33, 2)`` pixels.
    NaN where a frame has no prediction or no usable truth."""
    p = M._check("pred_px", pred_px, 3, 2)
    g = M._check("gt_px", gt_px, 3, 2)
    M._same_shape(p, g, "pred_px and gt_px")
    with np.errstate(invalid="ignore"):
        e = np.linalg.norm(p[:, _LIMBS] - g[:, _LIMBS], axis=-1).mean(axis=1)
        x = np.linalg.norm(p[:, MIRROR_PERMUTATION][:, _LIMBS] - g[:, _LIMBS], axis=-1).mean(axis=1)
    return e, x


def swapped_frames(
    pred_px: np.ndarray,
    gt_px: np.ndarray,
    torso_px: np.ndarray,
    ratio: float = SWAP_RATIO,
    margin: float = SWAP_MARGIN,
) -> np.ndarray:
    """``(F,)`` bool: the frames whose left/right exchange is much closer to the truth (see
    the module doc). pred_px, gt_px: ``(F, 33, 2)`` pixels; torso_px: ``(F,)`` pixels."""
    e, x = limb_errors(pred_px, gt_px)
    torso = M._check("torso_px", torso_px, 1)
    if torso.shape != e.shape:
        raise ValueError(f"torso_px must be ({e.shape[0]},), got shape {torso.shape}")
    with np.errstate(invalid="ignore"):
        out = (x < ratio * e) & (e - x > margin * torso)
    return out & np.isfinite(e) & np.isfinite(x) & np.isfinite(torso)


def oracle_px(pred_px: np.ndarray, gt_px: np.ndarray) -> np.ndarray:
    """``(F, 33, 2)``: per frame, ``pred_px`` or its left/right exchange, whichever has the
    lower limb error against ``gt_px`` (pixels)."""
    e, x = limb_errors(pred_px, gt_px)
    p = np.asarray(pred_px, dtype=np.float64)
    out = p.copy()
    better = np.isfinite(x) & (x < e)
    out[better] = p[better][:, MIRROR_PERMUTATION]
    return out


def limb_pck(pred_px: np.ndarray, gt_px: np.ndarray, torso_px: np.ndarray, thresh: float = 0.2) -> float:
    """PCK (fraction in [0, 1]) over the sided body landmarks; arguments as for
    :func:`arpose.evaluate.metrics.pck`."""
    p = M._check("pred_px", pred_px, 3, 2)
    g = M._check("gt_px", gt_px, 3, 2)
    return M.pck(p[:, _LIMBS], g[:, _LIMBS], torso_px, thresh)


def swap_metrics(result: VariantResult, truth: GroundTruthSequence, *, baseline: VariantResult) -> dict[str, float]:
    """Columns ``swapped`` (this row's swapped frames), ``swapped_raw`` (the raw baseline's),
    ``limb_pck@0.2`` (this row), ``limb_pck@0.2_raw``, ``limb_pck@0.2_oracle`` (per-frame best
    of the raw estimate and its exchange) and ``swap_recovery`` (see the module doc)."""
    gt, torso = truth.markers_px, truth.torso_px
    row = limb_pck(result.image_px, gt, torso)
    raw = limb_pck(baseline.image_px, gt, torso)
    oracle = limb_pck(oracle_px(baseline.image_px, gt), gt, torso)
    gain = oracle - raw
    return {
        "swapped": float(swapped_frames(result.image_px, gt, torso).sum()),
        "swapped_raw": float(swapped_frames(baseline.image_px, gt, torso).sum()),
        "limb_pck@0.2": row,
        "limb_pck@0.2_raw": raw,
        "limb_pck@0.2_oracle": oracle,
        "swap_recovery": (row - raw) / gain if gain >= MIN_ORACLE_GAIN else float("nan"),
    }
