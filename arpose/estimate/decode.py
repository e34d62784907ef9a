"""BlazePose landmark-model outputs decoded as MediaPipe's graph does (pure functions).

The Full landmark model (256x256 RGB in [0, 1]) returns five tensors: landmarks ``(1, 195)``
(39 x ``[x, y, z, visibility, presence]``, x y z in crop pixels, the last two logits), the pose
flag ``(1, 1)`` (a probability), the segmentation ``(1, 256, 256, 1)`` logits, the heatmap
``(1, 64, 64, 39)`` logits and world landmarks ``(1, 117)`` (39 x xyz metres).

* :func:`decode_landmarks`: ``TensorsToLandmarksCalculator`` (normalise, activations).
* :func:`refine_from_heatmap`: ``RefineLandmarksFromHeatmapCalculator``.
* :func:`segmentation_probabilities` and :func:`smooth_mask`: ``TensorsToSegmentationCalculator``
  (sigmoid) and ``SegmentationSmoothingCalculator``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "decode_landmarks",
    "refine_from_heatmap",
    "segmentation_probabilities",
    "sigmoid",
    "smooth_mask",
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, float32, as MediaPipe's ``1.0f / (1.0f + std::exp(-x))``: the
    exponential correctly rounded to float32 (computed in double), the rest in float32."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):
        e = np.exp(-x.astype(np.float64)).astype(np.float32)
    return np.float32(1.0) / (np.float32(1.0) + e)


def _activate(x: np.ndarray, activation: str) -> np.ndarray:
    if activation == "SIGMOID":
        return sigmoid(x)
    if activation == "NONE":
        return x.astype(np.float32)
    raise ValueError(f"unknown activation {activation!r}")


def decode_landmarks(
    raw: np.ndarray,
    num_landmarks: int,
    input_size: tuple[int, int],
    visibility_activation: str = "SIGMOID",
    presence_activation: str = "SIGMOID",
) -> np.ndarray:
    """Raw landmark tensor to normalised crop landmarks.

    raw: ``num_landmarks * 5`` float32 values (any shape), per landmark ``[x, y, z]`` in crop
        pixels and visibility and presence logits. input_size: the crop's ``(width, height)``.

    Returns ``(num_landmarks, 5)`` float32 ``[x, y, z, visibility, presence]``: x, y normalised
    to the crop (0..1, may fall outside), z divided by the crop width, visibility and presence
    through the activation (probabilities in [0, 1] for ``"SIGMOID"``).
    """
    r = np.asarray(raw, dtype=np.float32).reshape(num_landmarks, -1)
    if r.shape[1] < 5:
        raise ValueError(f"landmark tensor has {r.shape[1]} values per landmark, expected 5")
    W, H = input_size
    out = np.empty((num_landmarks, 5), dtype=np.float32)
    out[:, 0] = r[:, 0] / np.float32(W)
    out[:, 1] = r[:, 1] / np.float32(H)
    out[:, 2] = r[:, 2] / np.float32(W)
    out[:, 3] = _activate(r[:, 3], visibility_activation)
    out[:, 4] = _activate(r[:, 4], presence_activation)
    return out


def refine_from_heatmap(
    landmarks: np.ndarray, heatmap: np.ndarray, kernel_size: int, min_confidence: float
) -> np.ndarray:
    """Refine landmark x, y as the sigmoid-weighted mean heatmap cell around each landmark.

    landmarks: ``(n, >=2)`` float32, x y normalised to the crop. heatmap: ``(h, w, n)`` float32
    logits (batch dimension dropped), one channel per landmark.

    As MediaPipe: the window is ``kernel_size`` cells wide centred on cell
    ``(int(x * w), int(y * h))`` (truncated toward zero) and clipped to the heatmap; a landmark
    whose column is outside ``[0, w)`` or row below 0 is kept (MediaPipe tests the column, not
    the row, against the height: a row past the bottom is refined from whatever part of its
    window is still on the heatmap, and kept if none is); otherwise, if the window's largest probability reaches ``min_confidence``, x and y become
    ``sum(col * p) / w / sum(p)`` and ``sum(row * p) / h / sum(p)``. Other columns are
    copied. Returns a new float32 array of ``landmarks``' shape.
    """
    lm = np.asarray(landmarks, dtype=np.float32)
    hm = np.asarray(heatmap, dtype=np.float32)
    h, w, n = hm.shape
    if n != lm.shape[0]:
        raise ValueError(f"heatmap has {n} channels for {lm.shape[0]} landmarks")
    col = np.trunc(lm[:, 0] * np.float32(w)).astype(np.int64)
    row = np.trunc(lm[:, 1] * np.float32(h)).astype(np.int64)
    inside = (col >= 0) & (col < w) & (row >= 0) & (col < h)
    off = (kernel_size - 1) // 2
    steps = np.arange(-off, off + 1)
    k = steps.size
    rows = np.repeat(row[:, None] + steps[None, :], k, axis=1)  # (n, k*k), row-major window
    cols = np.tile(col[:, None] + steps[None, :], (1, k))
    ok = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    vals = hm[np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1), np.arange(n)[:, None]]
    weight = np.where(ok, sigmoid(vals), np.float32(0.0))
    # Running float32 sums in MediaPipe's loop order (zero weights outside the window add nothing).
    total = np.cumsum(weight, axis=1, dtype=np.float32)[:, -1]
    wx = np.cumsum(cols.astype(np.float32) * weight, axis=1, dtype=np.float32)[:, -1]
    wy = np.cumsum(rows.astype(np.float32) * weight, axis=1, dtype=np.float32)[:, -1]
    peak = weight.max(axis=1)
    refine = inside & (peak >= np.float32(min_confidence)) & (total > 0)
    out = lm.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 0] = np.where(refine, wx / np.float32(w) / total, lm[:, 0])
        out[:, 1] = np.where(refine, wy / np.float32(h) / total, lm[:, 1])
    return out


def segmentation_probabilities(logits: np.ndarray) -> np.ndarray:
    """Segmentation logits ``(1, H, W, 1)`` or ``(H, W)`` to ``(H, W)`` float32 person
    probabilities in [0, 1] (sigmoid), in the crop's pixels."""
    x = np.asarray(logits, dtype=np.float32)
    return sigmoid(x.reshape(x.shape[-3], x.shape[-2]) if x.ndim == 4 else x)


#: Coefficients of MediaPipe's polynomial for the uncertainty of a mask value
#: (``segmentation_smoothing_calculator.cc``, code constants, not graph options).
_UNCERTAINTY_POLY = (5.68842, -0.748699, -57.8051, 291.309, -624.717)


def smooth_mask(current: np.ndarray, previous: np.ndarray | None, ratio: float) -> np.ndarray:
    """Blend a new mask with the previous smoothed one where the new one is uncertain.

    current, previous: ``(H, W)`` float32 probabilities (``previous`` ``None``: returned as is).
    ratio: ``combine_with_previous_ratio``. Per pixel, with ``t = p - 0.5`` and ``x = t^2``:
    ``uncertainty = 1 - min(1, x (c1 + x (c2 + x (c3 + x (c4 + x c5)))))`` and the result is
    ``p + (prev - p) * uncertainty * ratio``. Returns a new ``(H, W)`` float32 array (a copy of
    ``current`` when ``ratio`` is 0, without the per-pixel polynomial: the same numbers).
    """
    cur = np.asarray(current, dtype=np.float32)
    if previous is None or ratio == 0.0:
        # ratio 0 (the proto default, what ``solutions.pose`` runs): the blend below adds
        # ``(prev - p) * 0``, a signed zero, to finite ``p``, so ``p`` is the exact answer.
        return cur.copy()
    c1, c2, c3, c4, c5 = (np.float32(c) for c in _UNCERTAINTY_POLY)
    t = cur - np.float32(0.5)
    x = t * t
    uncertainty = np.float32(1.0) - np.minimum(np.float32(1.0), x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5)))))
    return (cur + (previous - cur) * (uncertainty * np.float32(ratio))).astype(np.float32)
