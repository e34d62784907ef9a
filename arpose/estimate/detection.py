"""BlazePose's person detector, decoded as MediaPipe's graph does (pure functions).

* :func:`ssd_anchors`: the SSD anchor grid of ``SsdAnchorsCalculator``.
* :func:`decode_detections`: raw model tensors to boxes, keypoints and scores
  (``TensorsToDetectionsCalculator``: anchor offsets, score clipping, sigmoid, threshold).
* :func:`weighted_nms`: ``NonMaxSuppressionCalculator`` with the ``WEIGHTED`` algorithm.
* :func:`remove_letterbox`: ``DetectionLetterboxRemovalCalculator``.

Coordinates are normalised: ``[0, 1]`` across the detector's input tensor before
:func:`remove_letterbox`, across the image after it; x right, y down. The detector's four
keypoints are the hip centre, a point on the circle enclosing the whole body (its distance to
the hip centre is the circle's radius), the shoulder centre and a point on the circle around
the upper body.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .decode import sigmoid
from .graph import AnchorOptions, DetectionDecoding, NmsOptions

__all__ = [
    "Detections",
    "decode_detections",
    "iou",
    "remove_letterbox",
    "ssd_anchors",
    "weighted_nms",
]


@dataclass(frozen=True)
class Detections:
    """Person detections, one row each, best first after :func:`weighted_nms`.

    boxes: ``(n, 4)`` float32 ``[xmin, ymin, width, height]``, normalised.
    keypoints: ``(n, k, 2)`` float32 ``[x, y]``, normalised.
    scores: ``(n,)`` float32 in [0, 1].
    """

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @classmethod
    def empty(cls, num_keypoints: int) -> "Detections":
        return cls(
            np.zeros((0, 4), np.float32), np.zeros((0, num_keypoints, 2), np.float32), np.zeros((0,), np.float32)
        )


def _layer_scale(opts: AnchorOptions, index: int) -> float:
    n = len(opts.strides)
    if n == 1:
        return (opts.min_scale + opts.max_scale) * 0.5
    return opts.min_scale + (opts.max_scale - opts.min_scale) * index / (n - 1.0)


def ssd_anchors(opts: AnchorOptions) -> np.ndarray:
    """The detector's anchors, ``(N, 4)`` float32 ``[x_center, y_center, width, height]``
    normalised to the input tensor, in the model's output order.

    As ``SsdAnchorsCalculator::GenerateAnchors``: layers with the same stride share one grid
    of ``ceil(input / stride)`` cells; each cell holds, per merged layer, one anchor per aspect
    ratio plus one at the interpolated scale; the centre of cell ``(x, y)`` is
    ``((x + offset_x) / cols, (y + offset_y) / rows)``. With ``fixed_anchor_size`` every
    anchor is 1 x 1 (the detector predicts absolute sizes).
    """
    anchors: list[tuple[float, float, float, float]] = []
    strides = opts.strides
    layer = 0
    while layer < len(strides):
        heights: list[float] = []
        widths: list[float] = []
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            scale = _layer_scale(opts, last)
            ratios: list[float] = []
            scales: list[float] = []
            if last == 0 and opts.reduce_boxes_in_lowest_layer:
                ratios += [1.0, 2.0, 0.5]
                scales += [0.1, scale, scale]
            else:
                ratios += list(opts.aspect_ratios)
                scales += [scale] * len(opts.aspect_ratios)
                if opts.interpolated_scale_aspect_ratio > 0.0:
                    nxt = 1.0 if last == len(strides) - 1 else _layer_scale(opts, last + 1)
                    scales.append(math.sqrt(scale * nxt))
                    ratios.append(opts.interpolated_scale_aspect_ratio)
            for r, s in zip(ratios, scales):
                heights.append(s / math.sqrt(r))
                widths.append(s * math.sqrt(r))
            last += 1
        rows = math.ceil(opts.input_height / strides[layer])
        cols = math.ceil(opts.input_width / strides[layer])
        for y in range(rows):
            for x in range(cols):
                for w, h in zip(widths, heights):
                    cx = (x + opts.anchor_offset_x) / cols
                    cy = (y + opts.anchor_offset_y) / rows
                    if opts.fixed_anchor_size:
                        anchors.append((cx, cy, 1.0, 1.0))
                    else:
                        anchors.append((cx, cy, w, h))
        layer = last
    return np.asarray(anchors, dtype=np.float32)


def decode_detections(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    opts: DetectionDecoding,
    min_score: float | None = None,
) -> Detections:
    """Decode the detector's raw output into detections above the score threshold.

    raw_boxes: ``(num_boxes, num_coords)`` float32 (batch dimension dropped), per row the box
        centre and size then the keypoints, in tensor pixels relative to the anchor.
    raw_scores: ``(num_boxes, 1)`` or ``(num_boxes,)`` float32 logits (one class).
    anchors: ``(num_boxes, 4)`` from :func:`ssd_anchors`.
    min_score: score threshold (default ``opts.min_score_thresh``); scores at or above pass.

    Returns :class:`Detections` in anchor order (not sorted), normalised to the input tensor.
    Boxes with negative or NaN size are dropped, as MediaPipe does.
    """
    raw = np.asarray(raw_boxes, dtype=np.float32).reshape(opts.num_boxes, opts.num_coords)
    logits = np.asarray(raw_scores, dtype=np.float32).reshape(opts.num_boxes, -1)[:, 0]
    if opts.sigmoid_score:
        clip = np.float32(opts.score_clipping_thresh) if math.isfinite(opts.score_clipping_thresh) else None
        if clip is not None:
            logits = np.clip(logits, -clip, clip)
        scores = sigmoid(logits)
    else:
        scores = logits
    threshold = opts.min_score_thresh if min_score is None else min_score
    keep = np.flatnonzero(scores >= np.float32(threshold))
    k = opts.num_keypoints
    if keep.size == 0:
        return Detections.empty(k)
    rows = raw[keep]
    anc = anchors[keep]
    b = opts.box_coord_offset
    if opts.xywh:
        xc, yc, w, h = rows[:, b], rows[:, b + 1], rows[:, b + 2], rows[:, b + 3]
    else:
        yc, xc, h, w = rows[:, b], rows[:, b + 1], rows[:, b + 2], rows[:, b + 3]
    ax, ay, aw, ah = anc[:, 0], anc[:, 1], anc[:, 2], anc[:, 3]
    xc = xc / np.float32(opts.x_scale) * aw + ax
    yc = yc / np.float32(opts.y_scale) * ah + ay
    if opts.apply_exponential_on_box_size:
        h = np.exp(h / np.float32(opts.h_scale)) * ah
        w = np.exp(w / np.float32(opts.w_scale)) * aw
    else:
        h = h / np.float32(opts.h_scale) * ah
        w = w / np.float32(opts.w_scale) * aw
    xmin, ymin = xc - w / 2, yc - h / 2
    width, height = (xc + w / 2) - xmin, (yc + h / 2) - ymin
    idx = opts.keypoint_coord_offset + np.arange(k) * opts.num_values_per_keypoint
    first, second = rows[:, idx], rows[:, idx + 1]
    kx, ky = (first, second) if opts.xywh else (second, first)
    kx = kx / np.float32(opts.x_scale) * aw[:, None] + ax[:, None]
    ky = ky / np.float32(opts.y_scale) * ah[:, None] + ay[:, None]
    valid = (width >= 0) & (height >= 0)  # also drops NaN
    return Detections(
        boxes=np.stack([xmin, ymin, width, height], axis=1)[valid].astype(np.float32),
        keypoints=np.stack([kx, ky], axis=2)[valid].astype(np.float32),
        scores=scores[keep][valid],
    )


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box ``(4,)`` with boxes ``(n, 4)``, all
    ``[xmin, ymin, width, height]`` in the same units. Returns ``(n,)`` float32; 0 where they
    do not overlap or the union is empty (MediaPipe's ``OverlapSimilarity`` on float32
    rectangles with corners ``min`` and ``min + size``)."""
    box = np.asarray(box, dtype=np.float32)
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    ax0, ay0, ax1, ay1 = box[0], box[1], box[0] + box[2], box[1] + box[3]
    bx0, by0 = boxes[:, 0], boxes[:, 1]
    bx1, by1 = bx0 + boxes[:, 2], by0 + boxes[:, 3]
    ix0, iy0 = np.maximum(ax0, bx0), np.maximum(ay0, by0)
    ix1, iy1 = np.minimum(ax1, bx1), np.minimum(ay1, by1)
    empty_a = (ax0 > ax1) | (ay0 > ay1)
    empty_b = (bx0 > bx1) | (by0 > by1)
    touches = ~(empty_a | empty_b | (bx1 < ax0) | (ax1 < bx0) | (by1 < ay0) | (ay1 < by0))
    inter = np.where(touches, (ix1 - ix0) * (iy1 - iy0), np.float32(0.0))
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(touches & (union > 0), inter / union, np.float32(0.0)).astype(np.float32)


def weighted_nms(dets: Detections, opts: NmsOptions) -> Detections:
    """MediaPipe's weighted non-maximum suppression.

    Repeatedly takes the best remaining detection; every remaining detection whose overlap
    with it exceeds ``opts.min_suppression_threshold`` (itself included) joins its cluster,
    and the output is the score-weighted mean of the cluster's box corners and keypoints (float32
    running sums in score order, as MediaPipe) with the best detection's score; a cluster whose
    scores sum to 0 (possible only with a score threshold of 0) keeps its best detection's box
    and keypoints instead of dividing by 0. Returns :class:`Detections` best first.
    """
    if opts.algorithm != "WEIGHTED" or opts.overlap_type != "INTERSECTION_OVER_UNION":
        raise NotImplementedError(f"NMS {opts.algorithm} / {opts.overlap_type} is not the pose graph's")
    if len(dets) == 0:
        return dets
    remaining = np.argsort(-dets.scores, kind="stable")
    x0, y0 = dets.boxes[:, 0], dets.boxes[:, 1]
    x1, y1 = x0 + dets.boxes[:, 2], y0 + dets.boxes[:, 3]
    boxes, kps, scores = [], [], []
    threshold = np.float32(opts.min_suppression_threshold)
    while remaining.size:
        top = remaining[0]
        in_cluster = iou(dets.boxes[top], dets.boxes[remaining]) > threshold
        cluster = remaining[in_cluster]
        box = dets.boxes[top]
        kp = dets.keypoints[top]
        w = dets.scores[cluster]
        total = np.cumsum(w, dtype=np.float32)[-1] if cluster.size else np.float32(0.0)
        if total > 0:  # a cluster of zero scores (min_detection_confidence 0) keeps its best box
            corners = np.stack([x0[cluster], y0[cluster], x1[cluster], y1[cluster]], axis=1)
            c = np.cumsum(corners * w[:, None], axis=0, dtype=np.float32)[-1] / total
            k = np.cumsum(dets.keypoints[cluster] * w[:, None, None], axis=0, dtype=np.float32)[-1] / total
            box = np.array([c[0], c[1], c[2] - c[0], c[3] - c[1]], dtype=np.float32)
            kp = k
        boxes.append(box)
        kps.append(kp)
        scores.append(dets.scores[top])
        rest = remaining[~in_cluster]
        if rest.size == remaining.size:
            break
        remaining = rest
    return Detections(
        boxes=np.asarray(boxes, dtype=np.float32),
        keypoints=np.asarray(kps, dtype=np.float32),
        scores=np.asarray(scores, dtype=np.float32),
    )


def remove_letterbox(dets: Detections, padding: np.ndarray | tuple[float, float, float, float]) -> Detections:
    """Map detections from the letterboxed tensor to the image it was cut from.

    padding: ``[left, top, right, bottom]`` fractions of the tensor that are padding (from
    :func:`arpose.estimate.roi.crop_transform`). Boxes and keypoints are rescaled as
    ``(v - left) / (1 - left - right)`` (x) and likewise for y.
    """
    left, top, right, bottom = (np.float32(p) for p in padding)
    sx, sy = np.float32(1.0) - (left + right), np.float32(1.0) - (top + bottom)
    boxes = dets.boxes.copy()
    boxes[:, 0] = (boxes[:, 0] - left) / sx
    boxes[:, 1] = (boxes[:, 1] - top) / sy
    boxes[:, 2] /= sx
    boxes[:, 3] /= sy
    kps = dets.keypoints.copy()
    kps[..., 0] = (kps[..., 0] - left) / sx
    kps[..., 1] = (kps[..., 1] - top) / sy
    return Detections(boxes=boxes, keypoints=kps, scores=dets.scores)
