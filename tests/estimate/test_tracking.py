"""MediaPipe's One Euro and low-pass filters as the ROI tracker runs them (known answers)."""

import math

import numpy as np
import pytest

from arpose.estimate.graph import OneEuroOptions
from arpose.estimate.tracking import (
    MediaPipeOneEuro,
    VisibilityLowPass,
    low_pass_step,
    object_scale,
    one_euro_step,
    smoothing_alpha,
)

MS = 1_000_000  # nanoseconds
PLAIN = OneEuroOptions(
    frequency=30.0,
    min_cutoff=1.0,
    beta=0.0,
    derivate_cutoff=1.0,
    min_allowed_object_scale=1e-6,
    disable_value_scaling=True,
)


def _alpha(dt, cutoff):
    return 1.0 / (1.0 + (1.0 / (2 * math.pi * cutoff)) / dt)


def test_alpha_formula():
    assert smoothing_alpha(10.0, 1.0) == pytest.approx(_alpha(0.1, 1.0))
    assert smoothing_alpha(10.0, 1.0) == pytest.approx(0.385869, abs=1e-6)


def test_first_value_passes_and_a_step_is_low_passed():
    y, s = one_euro_step(None, np.array([0.0, 5.0]), 100 * MS, PLAIN)
    np.testing.assert_array_equal(y, [0.0, 5.0])
    y, s = one_euro_step(s, np.array([1.0, 5.0]), 200 * MS, PLAIN)  # 10 Hz, beta 0: alpha(1 Hz)
    np.testing.assert_allclose(y, [_alpha(0.1, 1.0), 5.0], rtol=1e-6)
    y, s = one_euro_step(s, np.array([1.0, 5.0]), 250 * MS, PLAIN)  # 20 Hz now
    a = _alpha(0.05, 1.0)
    np.testing.assert_allclose(y[0], _alpha(0.1, 1.0) + a * (1 - _alpha(0.1, 1.0)), rtol=1e-6)


def test_timestamp_not_after_the_last_returns_the_input_and_keeps_the_state():
    y, s = one_euro_step(None, np.array([0.0]), 100 * MS, PLAIN)
    for t in (100 * MS, 50 * MS):
        y2, s2 = one_euro_step(s, np.array([3.0]), t, PLAIN)
        assert y2[0] == 3.0 and s2 is s


def test_a_first_timestamp_of_zero_keeps_the_configured_frequency():
    """MediaPipe only measures the frequency when the previous timestamp is not 0."""
    _, s = one_euro_step(None, np.array([0.0]), 0, PLAIN)
    y, s = one_euro_step(s, np.array([1.0]), 100 * MS, PLAIN)
    assert s.frequency == 30.0 and y[0] == pytest.approx(_alpha(1 / 30, 1.0), rel=1e-6)
    _, s = one_euro_step(None, np.array([0.0]), 1000, PLAIN)
    y, s = one_euro_step(s, np.array([1.0]), 100 * MS + 1000, PLAIN)
    assert s.frequency == pytest.approx(10.0) and y[0] == pytest.approx(_alpha(0.1, 1.0), rel=1e-6)


def test_speed_scaled_by_the_object_size_raises_the_cutoff():
    opts = OneEuroOptions(30.0, 0.01, 10.0, 1.0, 1e-6, False)
    f = MediaPipeOneEuro(opts)
    f(np.array([0.0]), 100 * MS, object_scale=100.0)
    y = f(np.array([10.0]), 200 * MS, object_scale=100.0)
    # speed 10 px / 100 px / 0.1 s = 1 per second, low-passed at 1 Hz; cutoff 0.01 + 10 * that
    speed = _alpha(0.1, 1.0) * 1.0
    assert y[0] == pytest.approx(10.0 * _alpha(0.1, 0.01 + 10.0 * speed), rel=1e-5)
    g = MediaPipeOneEuro(opts)
    g(np.array([0.0]), 100 * MS, object_scale=1000.0)
    assert g(np.array([10.0]), 200 * MS, object_scale=1000.0)[0] < y[0]  # bigger object: smoother


def test_tiny_objects_pass_through_and_scaling_needs_a_size():
    f = MediaPipeOneEuro(OneEuroOptions(30.0, 0.01, 10.0, 1.0, 1e-6, False))
    f(np.array([0.0]), 100 * MS, object_scale=100.0)
    np.testing.assert_array_equal(f(np.array([7.0]), 200 * MS, object_scale=1e-9), [7.0])
    with pytest.raises(ValueError, match="object_scale"):
        f(np.array([7.0]), 300 * MS)
    f.reset()
    assert f.state is None


def test_object_scale_is_the_mean_side_in_pixels():
    assert object_scale(0.5, 0.5, (640, 480)) == pytest.approx(280.0)


def test_visibility_low_pass():
    f = VisibilityLowPass(0.1)
    np.testing.assert_allclose(f(np.array([1.0, 0.0])), [1.0, 0.0])
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), [0.9, 0.1], rtol=1e-6)
    f.reset()
    np.testing.assert_allclose(f(np.array([0.5, 0.5])), [0.5, 0.5])
    np.testing.assert_allclose(low_pass_step(np.float32([2.0]), [4.0], 0.25), [2.5])
