"""Regions of interest: from keypoints, transformed, cropped and projected back (round trips)."""

import math

import numpy as np
import pytest

from arpose.estimate.detection import Detections, remove_letterbox
from arpose.estimate.graph import RoiOptions, TensorInput, load_pose_graph
from arpose.estimate.roi import (
    Roi,
    crop_transform,
    normalize_radians,
    project_landmarks,
    roi_from_keypoints,
    rotate_world,
    tensor_points,
    transform_roi,
    warp_mask,
    warp_to_tensor,
)

SIZE = (640, 480)
ALIGN = RoiOptions(0, 1, math.pi / 2, 1.0, 1.0, 0.0, 0.0, False)
CROP = TensorInput(256, 256, True, 0.0, 1.0, "replicate")


def test_normalize_radians():
    assert normalize_radians(1.5 * math.pi) == pytest.approx(-0.5 * math.pi)
    assert normalize_radians(math.pi) == pytest.approx(-math.pi)
    assert normalize_radians(-math.pi) == pytest.approx(-math.pi)
    assert normalize_radians(0.25) == pytest.approx(0.25)


@pytest.mark.parametrize(
    "end,rotation",
    [
        ((0.5, 0.25), 0.0),  # body circle point straight above the hips: upright
        ((0.6875, 0.5), math.pi / 2),  # to the right (120 px): head to the right
        ((0.3125, 0.5), -math.pi / 2),
        ((0.5, 0.75), -math.pi),  # below: upside down
    ],
)
def test_region_from_two_keypoints(end, rotation):
    roi = roi_from_keypoints(np.array([[0.5, 0.5], end]), SIZE, ALIGN)
    # centre at the first keypoint; side twice the 120 px distance, normalised per axis
    assert (roi.x_center, roi.y_center) == (0.5, 0.5)
    assert roi.width == pytest.approx(240 / 640) and roi.height == pytest.approx(240 / 480)
    assert roi.rotation == pytest.approx(rotation, abs=1e-6)


def test_transform_squares_the_long_side_in_pixels_and_scales():
    opts = RoiOptions(0, 1, math.pi / 2, 1.25, 1.25, 0.0, 0.0, True)
    out = transform_roi(Roi(0.5, 0.5, 0.5, 0.5, 0.3), SIZE, opts)  # 320 x 240 px
    assert out.width == pytest.approx(320 / 640 * 1.25) and out.height == pytest.approx(320 / 480 * 1.25)
    assert (out.x_center, out.y_center) == (0.5, 0.5) and out.rotation == pytest.approx(0.3)


def test_transform_shifts_along_the_rotated_axes():
    opts = RoiOptions(0, 1, math.pi / 2, 1.0, 1.0, 0.0, 0.5, False)
    up = transform_roi(Roi(0.5, 0.5, 0.25, 0.25, 0.0), SIZE, opts)
    assert up.y_center == pytest.approx(0.5 + 0.125) and up.x_center == 0.5
    turned = transform_roi(Roi(0.5, 0.5, 0.25, 0.25, math.pi / 2), SIZE, opts)
    # rotated a quarter turn clockwise the region's "down" is the image's -x: 0.125 * 480 px
    assert turned.x_center == pytest.approx(0.5 - 0.125 * 480 / 640, abs=1e-6)
    assert turned.y_center == pytest.approx(0.5, abs=1e-6)


def test_crop_of_the_whole_square_image_is_the_image():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    crop = crop_transform(Roi.whole_image(), (256, 256), CROP)
    np.testing.assert_array_equal(crop.padding, 0)
    np.testing.assert_array_equal(warp_to_tensor(image, crop, CROP), image)


def test_crop_turned_a_quarter_samples_the_rotated_image():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    crop = crop_transform(Roi(0.5, 0.5, 1.0, 1.0, math.pi / 2), (256, 256), CROP)
    out = warp_to_tensor(image, crop, CROP)
    # Tensor pixel (u, v) samples image (x, y) = (256 - v, u): corners map onto corners, so
    # row 0 falls one pixel past the image's right edge and replicates its last column.
    v, u = np.mgrid[1:256, 0:256]
    np.testing.assert_array_equal(out[1:], image[u, 256 - v])
    np.testing.assert_array_equal(out[0], image[:, 255])


def test_crop_then_project_back_is_the_identity():
    roi = Roi(0.45, 0.55, 0.6, 0.8, 0.4)  # 384 x 384 px, rotated
    crop = crop_transform(roi, SIZE, CROP)
    rng = np.random.default_rng(3)
    points = rng.uniform([150, 120], [450, 380], (50, 2))  # image pixels
    tensor = tensor_points(points, crop) / 256.0
    lm = np.c_[tensor, np.zeros(len(tensor))].astype(np.float32)
    back = project_landmarks(lm, roi, crop.padding)
    np.testing.assert_allclose(back[:, :2] * SIZE, points, atol=2e-3)
    # the region's centre is the tensor's centre; its corners the tensor's corners
    np.testing.assert_allclose(tensor_points(np.array([[0.45 * 640, 0.55 * 480]]), crop), [[128, 128]], atol=1e-3)


def test_detector_letterbox_round_trip():
    graph = load_pose_graph()
    crop = crop_transform(Roi.whole_image(), SIZE, graph.detector_input)
    np.testing.assert_allclose(crop.padding, [0, 0.125, 0, 0.125])
    points = np.array([[0, 0], [640, 480], [320, 100], [17.5, 401.25]])
    tensor = tensor_points(points, crop) / 224.0
    dets = Detections(np.zeros((1, 4), np.float32), tensor[None].astype(np.float32), np.ones(1, np.float32))
    back = remove_letterbox(dets, crop.padding).keypoints[0]
    np.testing.assert_allclose(back * SIZE, points, atol=1e-3)


def test_projection_scales_z_and_removes_letterbox():
    roi = Roi(0.5, 0.5, 0.5, 0.25, 0.0)
    lm = np.array([[0.5, 0.5, 0.1, 0.7, 0.8], [0.25, 0.125, 0.0, 0.1, 0.2]], np.float32)
    out = project_landmarks(lm, roi, np.array([0.0, 0.25, 0.0, 0.25], np.float32))
    np.testing.assert_allclose(out[0], [0.5, 0.5, 0.05, 0.7, 0.8], atol=1e-7)
    # y: (0.125 - 0.25) / 0.5 - 0.5 = -0.75 of the region's height
    np.testing.assert_allclose(out[1, :2], [0.5 - 0.25 * 0.5, 0.5 - 0.75 * 0.25], atol=1e-7)


def test_world_landmarks_turn_with_the_region():
    w = np.array([[1.0, 0.0, 0.3], [0.0, -1.0, 0.0]], np.float32)
    np.testing.assert_allclose(rotate_world(w, math.pi / 2), [[0, 1, 0.3], [1, 0, 0]], atol=1e-6)
    np.testing.assert_array_equal(rotate_world(w, 0.0), w)


def test_mask_lands_where_the_crop_came_from():
    roi = Roi(0.5, 0.5, 0.375, 0.5, 0.0)  # 240 x 240 px in the middle of 640 x 480
    crop = crop_transform(roi, SIZE, CROP)
    mask = np.zeros((256, 256), np.float32)
    mask[64:192, 64:192] = 1.0  # the middle half of the crop
    out = warp_mask(mask, crop, SIZE)
    assert out.shape == (480, 640) and out.dtype == np.float32
    # the crop's middle half is image x 260..380, y 180..300
    assert out[181:299, 261:379].min() == 1.0
    assert out[:170].max() == 0.0 and out[:, :250].max() == 0.0 and out[:, 390:].max() == 0.0
    full = warp_mask(np.ones((256, 256), np.float32), crop, SIZE)
    assert full[:, :190].max() == 0.0 and full[245, 205:435].min() == 1.0
