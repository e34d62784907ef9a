"""Landmark-model output decoding: landmarks, heatmap refinement, masks (hand-computed)."""

import warnings

import numpy as np
import pytest

from arpose.estimate.decode import (
    decode_landmarks,
    refine_from_heatmap,
    segmentation_probabilities,
    sigmoid,
    smooth_mask,
)


def test_sigmoid_values_and_no_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([0.0, 2.0, -1000.0, 1000.0]))
    assert s.dtype == np.float32
    np.testing.assert_allclose(s, [0.5, 0.88079708, 0.0, 1.0], rtol=1e-7)


def test_landmark_decoding_normalises_and_activates():
    raw = np.array([[128, 64, 32, 0, 100], [-25.6, 512, -12.8, -100, 2]], np.float32)
    lm = decode_landmarks(raw.ravel(), 2, (256, 256))
    assert lm.shape == (2, 5) and lm.dtype == np.float32
    np.testing.assert_allclose(lm[0], [0.5, 0.25, 0.125, 0.5, 1.0], rtol=1e-7)
    np.testing.assert_allclose(lm[1], [-0.1, 2.0, -0.05, 0.0, 0.8807971], rtol=1e-6, atol=1e-30)
    raw_off = decode_landmarks(raw.ravel(), 2, (256, 256), "NONE", "NONE")
    np.testing.assert_allclose(raw_off[:, 3:], raw[:, 3:])


def _heatmap(cells, n=1, size=64):
    """Logits -30 (probability ~0) except ``cells`` {(row, col, channel): logit}."""
    hm = np.full((size, size, n), -30.0, np.float32)
    for (r, c, ch), v in cells.items():
        hm[r, c, ch] = v
    return hm


def test_refinement_takes_the_probability_weighted_cell_centre():
    # two cells at probability 0.5 (logit 0) on row 10, columns 20 and 22
    hm = _heatmap({(10, 20, 0): 0.0, (10, 22, 0): 0.0})
    lm = np.array([[21.4 / 64, 10.7 / 64, 0.3, 0.9, 0.8]], np.float32)
    out = refine_from_heatmap(lm, hm, kernel_size=7, min_confidence=0.5)
    # ~0 weights elsewhere: x = (20 + 22) / 2 / 64, y = 10 / 64; other columns kept
    np.testing.assert_allclose(out[0, :2], [21 / 64, 10 / 64], atol=1e-6)
    np.testing.assert_array_equal(out[0, 2:], lm[0, 2:])


def test_refinement_window_and_confidence():
    hm = _heatmap({(10, 30, 0): 0.0, (10, 40, 0): 5.0, (10, 30, 1): -0.1}, n=2)
    lm = np.array([[30.5 / 64, 10.5 / 64, 0, 0, 0], [30.5 / 64, 10.5 / 64, 0, 0, 0]], np.float32)
    out = refine_from_heatmap(lm, hm, kernel_size=7, min_confidence=0.5)
    # channel 0: the cell 10 columns away is outside the 7-cell window
    np.testing.assert_allclose(out[0, :2], [30 / 64, 10 / 64], atol=1e-6)
    # channel 1: best probability sigmoid(-0.1) < 0.5 -> left as is
    np.testing.assert_array_equal(out[1], lm[1])
    wide = refine_from_heatmap(lm[:1], hm[..., :1], kernel_size=21, min_confidence=0.5)
    p = 1 / (1 + np.exp(-5.0))
    assert wide[0, 0] == pytest.approx((30 * 0.5 + 40 * p) / (0.5 + p) / 64, abs=1e-5)


def test_refinement_keeps_landmarks_off_the_heatmap():
    hm = _heatmap({(0, 0, 0): 5.0, (63, 0, 0): 5.0}, n=1)
    for x, y in [(-0.1, 0.0), (1.2, 0.5), (0.001, -0.05)]:
        lm = np.array([[x, y, 0, 0, 0]], np.float32)
        np.testing.assert_array_equal(refine_from_heatmap(lm, hm, 7, 0.5), lm)
    # MediaPipe truncates toward zero: x = -0.01 is column 0, refined like any other
    lm = np.array([[-0.01, 0.5 / 64, 0, 0, 0]], np.float32)
    np.testing.assert_allclose(refine_from_heatmap(lm, hm, 7, 0.5)[0, :2], [0.0, 0.0], atol=1e-6)
    # ...and tests the column, not the row, against the height: a row just past the bottom is
    # refined from the part of its window still on the heatmap, one further away is kept
    lm = np.array([[0.001, 65.5 / 64, 0, 0, 0]], np.float32)
    np.testing.assert_allclose(refine_from_heatmap(lm, hm, 7, 0.5)[0, :2], [0.0, 63 / 64], atol=1e-6)
    lm = np.array([[0.001, 67.5 / 64, 0, 0, 0]], np.float32)
    np.testing.assert_array_equal(refine_from_heatmap(lm, hm, 7, 0.5), lm)


def test_refinement_checks_channels():
    with pytest.raises(ValueError, match="channels"):
        refine_from_heatmap(np.zeros((3, 5), np.float32), np.zeros((64, 64, 2), np.float32), 7, 0.5)


def test_segmentation_probabilities():
    logits = np.zeros((1, 4, 3, 1), np.float32)
    logits[0, 1, 2, 0] = 100.0
    p = segmentation_probabilities(logits)
    assert p.shape == (4, 3) and p[1, 2] == 1.0 and p[0, 0] == 0.5


def test_mask_smoothing_keeps_certain_pixels_and_blends_uncertain_ones():
    cur = np.array([[0.5, 1.0, 0.0, 0.75]], np.float32)
    prev = np.array([[0.0, 0.0, 1.0, 0.25]], np.float32)
    out = smooth_mask(cur, prev, 0.7)
    # p = 0.5: uncertainty 1 -> p + (prev - p) * 0.7; p in {0, 1}: uncertainty ~4e-5 -> ~p
    assert out[0, 0] == pytest.approx(0.5 - 0.5 * 0.7)
    assert out[0, 1] == pytest.approx(1.0, abs=1e-4) and out[0, 2] == pytest.approx(0.0, abs=1e-4)
    x = 0.25**2
    u = 1 - min(1.0, x * (5.68842 + x * (-0.748699 + x * (-57.8051 + x * (291.309 + x * -624.717)))))
    assert out[0, 3] == pytest.approx(0.75 - 0.5 * u * 0.7, abs=1e-6)
    np.testing.assert_array_equal(smooth_mask(cur, None, 0.7), cur)
    np.testing.assert_array_equal(smooth_mask(cur, prev, 0.0), cur)
