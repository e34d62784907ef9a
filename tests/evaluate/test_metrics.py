"""Metrics against analytic signals whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.evaluate import metrics as M
from arpose.landmarks import PoseLandmark as L


def _points(f=5, n=33, seed=0):
    return np.random.default_rng(seed).normal(size=(f, n, 3))


def test_pck_counts_threshold_and_nan_as_miss():
    gt = np.zeros((2, 33, 2))
    pred = gt.copy()
    torso = np.array([100.0, 100.0])
    pred[0, 0] = (19.9, 0.0)  # within 0.2 * 100
    pred[0, 1] = (20.1, 0.0)  # just outside
    pred[1, 2] = np.nan  # missed point
    assert M.pck(pred, gt, torso) == pytest.approx((66 - 2) / 66)
    pred[1] = np.nan  # a missed frame: 33 more misses
    assert M.pck(pred, gt, torso) == pytest.approx(32 / 66)
    # unscored: NaN ground truth or torso
    torso[1] = np.nan
    assert M.pck(pred, gt, torso) == pytest.approx(32 / 33)
    assert np.isnan(M.pck(pred, gt, np.full(2, np.nan)))


def test_median_px_error_ignores_missing():
    gt = np.zeros((1, 33, 2))
    pred = gt + np.array([3.0, 4.0])
    pred[0, :10] = np.nan
    assert M.median_px_error(pred, gt) == pytest.approx(5.0)


def test_torso_sizes_match_definition():
    p = np.zeros((1, 33, 2))
    p[0, L.LEFT_SHOULDER] = (0, 0)
    p[0, L.RIGHT_HIP] = (3, 4)
    p[0, L.RIGHT_SHOULDER] = (0, 0)
    p[0, L.LEFT_HIP] = (6, 8)
    assert M.torso_sizes(p)[0] == pytest.approx(7.5)


def test_procrustes_removes_similarity_exactly():
    gt = _points()
    rot = Rotation.from_euler("xyz", [30, -50, 110], degrees=True)
    pred = 2.7 * rot.apply(gt.reshape(-1, 3)).reshape(gt.shape) + np.array([1.0, -2.0, 5.0])
    assert M.mpjpe_procrustes(pred, gt) == pytest.approx(0.0, abs=1e-6)


def test_procrustes_error_of_known_offset_and_no_reflection():
    gt = _points(f=1)
    pred = gt.copy()
    pred[0, 0] += (0.01, 0.0, 0.0)  # a 10 mm error at one point
    err = M.mpjpe_procrustes(pred, gt)
    # least squares can only lower the RMS error (10 mm / sqrt(33)); the mean is at most the RMS
    assert 0.0 < err <= 10.0 / np.sqrt(33) + 1e-9
    mirrored = gt * np.array([-1.0, 1.0, 1.0])  # a reflection cannot be undone by a rotation
    assert M.mpjpe_procrustes(mirrored, gt) > 100.0


def test_procrustes_skips_nan_points_and_frames():
    gt = _points(f=2)
    pred = gt * 0.5
    pred[0, 3] = np.nan
    pred[1] = np.nan
    assert M.mpjpe_procrustes(pred, gt) == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(M.mpjpe_procrustes(np.full_like(gt, np.nan), gt))


def test_jitter_constant_is_zero_and_parabola_is_known():
    t = np.cumsum(np.r_[0.0, np.random.default_rng(1).uniform(0.02, 0.05, 40)])  # uneven steps
    const = np.ones((t.size, 33, 3))
    assert M.jitter(const, t) == pytest.approx(0.0, abs=1e-12)
    linear = np.ones((t.size, 33, 3)) * t[:, None, None] * 3.0
    assert M.jitter(linear, t) == pytest.approx(0.0, abs=1e-9)
    par = np.zeros((t.size, 2, 3))
    par[:, :, 1] = 0.5 * 9.81 * t[:, None] ** 2  # constant acceleration g
    assert M.jitter(par, t) == pytest.approx(9.81, rel=1e-9)


def test_jitter_rejects_bad_time():
    with pytest.raises(ValueError, match="increasing"):
        M.jitter(np.zeros((3, 1, 3)), np.array([0.0, 0.0, 1.0]))


@pytest.mark.parametrize("delay", [0, 3, -2, 2.5])
def test_lag_of_delayed_sine(delay):
    fps = 30.0
    t = np.arange(200) / fps
    ref = np.stack([np.sin(2 * np.pi * 0.7 * t), np.cos(2 * np.pi * 1.1 * t)], axis=1)[:, :, None]
    td = t - delay / fps
    est = np.stack([np.sin(2 * np.pi * 0.7 * td), np.cos(2 * np.pi * 1.1 * td)], axis=1)[:, :, None]
    assert M.lag_frames(est, ref) == pytest.approx(delay, abs=0.1)


def test_lag_with_nan_gaps_and_no_motion():
    t = np.arange(150) / 30.0
    ref = np.sin(2 * np.pi * 0.5 * t)[:, None, None] * np.ones((1, 4, 3))
    est = np.roll(ref, 4, axis=0)
    est[:4] = np.nan
    est[60:70] = np.nan
    assert M.lag_frames(est, ref) == pytest.approx(4.0, abs=0.1)
    assert np.isnan(M.lag_frames(np.ones((50, 3)), np.ones((50, 3))))


def test_detection_rate():
    p = np.zeros((4, 33, 2))
    p[1:3] = np.nan
    assert M.detection_rate(p) == 0.5


def test_shape_errors_say_the_shape():
    with pytest.raises(ValueError, match=r"\(5, 33\)"):
        M.pck(np.zeros((5, 33)), np.zeros((5, 33)), np.ones(5))
