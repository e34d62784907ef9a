"""Person detector decoding: anchors, boxes, scores, weighted NMS, letterbox (hand-computed)."""

import math

import numpy as np
import pytest

from arpose.estimate.detection import (
    Detections,
    decode_detections,
    iou,
    remove_letterbox,
    ssd_anchors,
    weighted_nms,
)
from arpose.estimate.graph import AnchorOptions, NmsOptions, load_pose_graph


@pytest.fixture(scope="module")
def graph():
    return load_pose_graph()


@pytest.fixture(scope="module")
def anchors(graph):
    return ssd_anchors(graph.anchors)


def test_pose_detector_anchor_grid(anchors):
    # 28x28 cells x 2 (stride 8) + 14x14 x 2 (stride 16) + 7x7 x 6 (three stride-32 layers
    # merged) = 1568 + 392 + 294; all 1x1 (fixed size), centres at cell centres.
    assert anchors.shape == (2254, 4) and anchors.dtype == np.float32
    assert np.all(anchors[:, 2:] == 1.0)
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(anchors[1], anchors[0])  # aspect 1 + interpolated scale
    np.testing.assert_allclose(anchors[2, :2], [1.5 / 28, 0.5 / 28], rtol=1e-6)
    np.testing.assert_allclose(anchors[2 * 28, :2], [0.5 / 28, 1.5 / 28], rtol=1e-6)
    np.testing.assert_allclose(anchors[1567, :2], [27.5 / 28, 27.5 / 28], rtol=1e-6)
    np.testing.assert_allclose(anchors[1568, :2], [0.5 / 14, 0.5 / 14], rtol=1e-6)
    np.testing.assert_allclose(anchors[1570, :2], [1.5 / 14, 0.5 / 14], rtol=1e-6)
    np.testing.assert_allclose(anchors[1960:1966, :2], [[0.5 / 7, 0.5 / 7]] * 6, rtol=1e-6)
    np.testing.assert_allclose(anchors[-1, :2], [6.5 / 7, 6.5 / 7], rtol=1e-6)


def test_anchor_sizes_when_not_fixed():
    opts = AnchorOptions(
        input_width=32,
        input_height=32,
        min_scale=0.2,
        max_scale=0.6,
        anchor_offset_x=0.5,
        anchor_offset_y=0.5,
        strides=(8, 16),
        aspect_ratios=(1.0, 2.0),
        interpolated_scale_aspect_ratio=1.0,
        reduce_boxes_in_lowest_layer=False,
        fixed_anchor_size=False,
    )
    a = ssd_anchors(opts)
    # layer 0: 4x4 cells x (ratios 1, 2 at scale 0.2 + interpolated sqrt(0.2 * 0.6)); layer 1:
    # 2x2 x (scale 0.6, and sqrt(0.6 * 1.0) for the last layer).
    assert a.shape == (4 * 4 * 3 + 2 * 2 * 3, 4)
    s2 = math.sqrt(2.0)
    np.testing.assert_allclose(a[0], [0.125, 0.125, 0.2, 0.2], rtol=1e-6)
    np.testing.assert_allclose(a[1], [0.125, 0.125, 0.2 * s2, 0.2 / s2], rtol=1e-6)
    np.testing.assert_allclose(a[2], [0.125, 0.125, math.sqrt(0.12), math.sqrt(0.12)], rtol=1e-6)
    np.testing.assert_allclose(a[48], [0.25, 0.25, 0.6, 0.6], rtol=1e-6)
    np.testing.assert_allclose(a[50], [0.25, 0.25, math.sqrt(0.6), math.sqrt(0.6)], rtol=1e-6)


def test_lowest_layer_reduced_boxes():
    opts = AnchorOptions(32, 32, 0.2, 0.6, 0.5, 0.5, (16,), (1.0,), 1.0, True, False)
    a = ssd_anchors(opts)
    # One layer: (min + max) / 2 = 0.4; ratios 1, 2, 0.5 at scales 0.1, 0.4, 0.4.
    assert a.shape == (2 * 2 * 3, 4)
    np.testing.assert_allclose(
        a[:3, 2:],
        [[0.1, 0.1], [0.4 * math.sqrt(2), 0.4 / math.sqrt(2)], [0.4 / math.sqrt(2), 0.4 * math.sqrt(2)]],
        rtol=1e-6,
    )


def _raw(graph, rows):
    """Raw detector outputs with every box at logit -10 except ``rows`` {index: (coords, logit)}."""
    d = graph.decoding
    boxes = np.zeros((d.num_boxes, d.num_coords), np.float32)
    logits = np.full((d.num_boxes, 1), -10.0, np.float32)
    for i, (coords, logit) in rows.items():
        boxes[i, : len(coords)] = coords
        logits[i] = logit
    return boxes, logits


def test_box_keypoint_and_score_decoding(graph, anchors):
    i = 700
    ax, ay = anchors[i, :2]
    # x, y, w, h (x first: reverse_output_order) then 4 keypoints, in tensor pixels (224).
    coords = [22.4, -11.2, 44.8, 89.6, 11.2, 22.4, 0.0, -44.8, -22.4, 0.0, 0.0, 0.0]
    dets = decode_detections(*_raw(graph, {i: (coords, 2.0)}), anchors, graph.decoding)
    assert len(dets) == 1
    np.testing.assert_allclose(dets.boxes[0], [ax + 0.1 - 0.1, ay - 0.05 - 0.2, 0.2, 0.4], atol=1e-6)
    np.testing.assert_allclose(
        dets.keypoints[0], [[ax + 0.05, ay + 0.1], [ax, ay - 0.2], [ax - 0.1, ay], [ax, ay]], atol=1e-6
    )
    assert dets.scores[0] == pytest.approx(1.0 / (1.0 + math.exp(-2.0)), abs=1e-7)


def test_score_clipping_threshold_and_negative_sizes(graph, anchors):
    rows = {
        10: ([0, 0, 10, 10], 1e4),  # clipped to 100 -> 1.0
        20: ([0, 0, 10, 10], 0.0),  # exactly 0.5: kept (scores at the threshold pass)
        30: ([0, 0, -10, 10], 5.0),  # negative width: dropped
        40: ([0, 0, 10, 10], -1e4),  # clipped to -100 -> 0
    }
    dets = decode_detections(*_raw(graph, rows), anchors, graph.decoding)
    assert sorted(dets.scores.tolist()) == [0.5, 1.0]
    assert len(decode_detections(*_raw(graph, rows), anchors, graph.decoding, min_score=0.6)) == 1


def test_iou_hand_values():
    box = np.array([0.0, 0.0, 2.0, 2.0])
    others = np.array([[0, 0, 2, 2], [1, 0, 2, 2], [3, 3, 1, 1], [2, 0, 1, 1], [0.5, 0.5, 1, 1]], np.float32)
    np.testing.assert_allclose(iou(box, others), [1.0, 2 / 6, 0.0, 0.0, 0.25], atol=1e-7)


def test_weighted_nms_averages_a_cluster_by_score():
    boxes = np.array([[0.10, 0.1, 0.4, 0.4], [0.12, 0.1, 0.4, 0.4], [0.6, 0.6, 0.2, 0.2]], np.float32)
    kps = np.array([[[0.3, 0.3]], [[0.36, 0.24]], [[0.7, 0.7]]], np.float32)
    dets = Detections(boxes, kps, np.array([0.9, 0.6, 0.7], np.float32))
    out = weighted_nms(dets, NmsOptions(0.3, "INTERSECTION_OVER_UNION", "WEIGHTED"))
    assert len(out) == 2
    np.testing.assert_allclose(out.scores, [0.9, 0.7])
    # Cluster {0, 1} (IoU 0.905): corners weighted 0.9 : 0.6.
    xmin = (0.10 * 0.9 + 0.12 * 0.6) / 1.5
    xmax = (0.50 * 0.9 + 0.52 * 0.6) / 1.5
    np.testing.assert_allclose(out.boxes[0], [xmin, 0.1, xmax - xmin, 0.4], atol=1e-6)
    np.testing.assert_allclose(
        out.keypoints[0, 0], [(0.3 * 0.9 + 0.36 * 0.6) / 1.5, (0.3 * 0.9 + 0.24 * 0.6) / 1.5], atol=1e-6
    )
    np.testing.assert_allclose(out.boxes[1], boxes[2])
    np.testing.assert_allclose(out.keypoints[1], kps[2])


def test_weighted_nms_of_zero_scores_keeps_the_best_box_not_nan():
    """min_detection_confidence 0 lets detections of score 0 through: their cluster's weights
    sum to 0, and the best box is kept instead of 0 / 0."""
    boxes = np.array([[0.10, 0.1, 0.4, 0.4], [0.12, 0.1, 0.4, 0.4], [0.6, 0.6, 0.2, 0.2]], np.float32)
    kps = np.array([[[0.3, 0.3]], [[0.36, 0.24]], [[0.7, 0.7]]], np.float32)
    dets = Detections(boxes, kps, np.zeros(3, np.float32))
    with np.errstate(all="raise"):
        out = weighted_nms(dets, NmsOptions(0.3, "INTERSECTION_OVER_UNION", "WEIGHTED"))
    assert len(out) == 2 and np.isfinite(out.boxes).all() and np.isfinite(out.keypoints).all()
    np.testing.assert_array_equal(out.boxes[0], boxes[0])
    np.testing.assert_array_equal(out.keypoints[0], kps[0])


def test_letterbox_removal_maps_tensor_to_image():
    dets = Detections(
        np.array([[0.25, 0.125, 0.5, 0.75]], np.float32),
        np.array([[[0.5, 0.125], [0.0, 0.875]]], np.float32),
        np.array([0.9], np.float32),
    )
    out = remove_letterbox(dets, (0.0, 0.125, 0.0, 0.125))  # a 4:3 image in a square tensor
    np.testing.assert_allclose(out.boxes[0], [0.25, 0.0, 0.5, 1.0], atol=1e-7)
    np.testing.assert_allclose(out.keypoints[0], [[0.5, 0.0], [0.0, 1.0]], atol=1e-7)
