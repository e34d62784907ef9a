"""One Euro filter against analytic answers: step, ramp, sine, uneven time steps, NaN."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from arpose.errors import ConfigError, InputError
from arpose.smooth import OneEuroFilter, OneEuroParams, OneEuroState, one_euro_step, smoothing_factor


def _run(params, xs, ts, **kw):
    f = OneEuroFilter(params, **kw)
    return np.array([f(np.asarray(x, dtype=float), t) for x, t in zip(xs, ts)])


def test_smoothing_factor_is_one_over_one_plus_tau_over_te():
    te, fc = 1 / 30, 2.0
    tau = 1 / (2 * math.pi * fc)
    assert smoothing_factor(te, fc) == pytest.approx(1 / (1 + tau / te))
    assert smoothing_factor(te, 0.0) == 0.0  # zero cutoff holds


def test_step_response_of_plain_low_pass():
    p = OneEuroParams(min_cutoff=1.5, beta=0.0)
    t = np.arange(40) / 30.0
    x = np.where(np.arange(40) >= 1, 1.0, 0.0)
    y = _run(p, x[:, None], t)[:, 0]
    a = smoothing_factor(1 / 30, 1.5)
    n = np.arange(40)
    expected = np.where(n >= 1, 1.0 - (1.0 - a) ** n, 0.0)
    np.testing.assert_allclose(y, expected, atol=1e-12)


@pytest.mark.parametrize("fps", [30.0, 60.0, 240.0])
def test_ramp_lags_by_tau_seconds_whatever_the_frame_rate(fps):
    fc, v = 2.0, 0.8  # Hz, units/s
    t = np.arange(int(4 * fps)) / fps
    y = _run(OneEuroParams(fc, 0.0), (v * t)[:, None], t)[:, 0]
    lag_value = v * t[-1] - y[-1]
    assert lag_value == pytest.approx(v / (2 * math.pi * fc), rel=1e-6)


def test_ramp_with_beta_reaches_the_adaptive_fixed_point():
    # Steady ramp: lag L = v * tau(c), speed estimate v + L / Te, cutoff c = mc + beta * speed / scale.
    mc, beta, scale, v, te = 0.5, 0.3, 2.0, 3.0, 1 / 30

    def residual(c):
        lag = v / (2 * math.pi * c)
        return mc + beta * (v + lag / te) / scale - c

    c = brentq(residual, mc, 1e4)
    t = np.arange(300) * te
    f = OneEuroFilter(OneEuroParams(mc, beta, d_cutoff=1.0))
    for ti in t:
        y = f(np.array([v * ti]), ti, scale=scale)
    assert v * t[-1] - y[0] == pytest.approx(v / (2 * math.pi * c), rel=1e-6)
    # The adaptive filter lags far less than the plain low-pass at min_cutoff.
    assert v * t[-1] - y[0] < 0.3 * v / (2 * math.pi * mc)


def test_sine_attenuation_matches_the_discrete_transfer_function():
    fc, f, te = 1.0, 1.0, 1 / 60  # a sine at the cutoff: about 1/sqrt(2)
    t = np.arange(1200) * te
    y = _run(OneEuroParams(fc, 0.0), np.sin(2 * math.pi * f * t)[:, None], t)[:, 0]
    a = smoothing_factor(te, fc)
    gain = abs(a / (1 - (1 - a) * np.exp(-2j * math.pi * f * te)))
    tail = y[600:]
    amp = (tail.max() - tail.min()) / 2
    assert amp == pytest.approx(gain, rel=2e-3)
    assert gain == pytest.approx(1 / math.sqrt(2), abs=0.02)  # continuous-time value


def test_uneven_frame_intervals_use_the_real_time_step():
    fc = 1.0
    dts = np.array([1 / 60, 1 / 20, 1 / 30, 1 / 90, 0.2, 1 / 45])
    t = np.concatenate([[0.0], np.cumsum(dts)])
    x = np.ones(len(t))
    x[0] = 0.0
    y = _run(OneEuroParams(fc, 0.0), x[:, None], t)[:, 0]
    expected = 1.0 - np.concatenate([[1.0], np.cumprod(1.0 - smoothing_factor(dts, fc))])
    np.testing.assert_allclose(y, expected, atol=1e-12)


def test_vectorised_over_any_shape_equals_elementwise():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.01, 0.05, 50))
    x = rng.normal(size=(50, 33, 3)).cumsum(axis=0)
    p = OneEuroParams(0.7, 0.2)
    y_all = _run(p, x, t)
    y_one = _run(p, x[:, 7, 2:3], t)
    np.testing.assert_allclose(y_all[:, 7, 2:3], y_one, atol=1e-12)


def test_speed_axis_shares_one_cutoff_per_point():
    # A diagonal ramp keeps its direction when the xyz speeds share one cutoff.
    t = np.arange(60) / 30.0
    d = np.array([1.0, 0.2, 0.0])
    x = t[:, None, None] * d[None, None, :]
    y = _run(OneEuroParams(0.5, 0.5), x, t, speed_axis=-1)
    err = x[-1, 0] - y[-1, 0]
    assert np.allclose(np.cross(err, d), 0.0, atol=1e-9)


def test_nan_input_leaves_state_untouched_and_outputs_nan():
    p = OneEuroParams(1.0, 0.0)
    y0, s0 = one_euro_step(None, np.array([0.0, 0.0]), 0.0, p)
    y1, s1 = one_euro_step(s0, np.array([np.nan, 1.0]), 0.1, p)
    assert np.isnan(y1[0]) and np.isfinite(y1[1])
    assert s1.y[0] == 0.0 and s1.t[0] == 0.0 and s1.t[1] == 0.1
    # Reappearing after the gap uses the real elapsed time (0.2 s), not one frame.
    y2, s2 = one_euro_step(s1, np.array([1.0, 1.0]), 0.2, p)
    assert y2[0] == pytest.approx(smoothing_factor(0.2, 1.0))
    assert np.isfinite(s2.y).all() and np.isfinite(s2.dy).all()
    # The step is pure: the old state is unchanged.
    assert s0.y[1] == 0.0 and s0.t[1] == 0.0


def test_first_observation_passes_through_and_max_cutoff_caps():
    p = OneEuroParams(1.0, 0.0)
    y, s = one_euro_step(None, np.full(4, 5.0), 1.0, p)
    assert (y == 5.0).all()
    cap = np.array([0.0, np.nan, 0.5, 3.0])
    y, s = one_euro_step(s, np.full(4, 9.0), 1.1, p, max_cutoff=cap)
    a = smoothing_factor(0.1, np.array([0.0, 1.0, 0.5, 1.0]))  # a cap above the cutoff changes nothing
    np.testing.assert_allclose(y, 5.0 + 4.0 * a)


def test_bad_timestamps_and_parameters_raise_typed_errors():
    p = OneEuroParams(1.0, 0.0)
    _, s = one_euro_step(None, np.zeros(3), 1.0, p)
    with pytest.raises(InputError, match="strictly increase"):
        one_euro_step(s, np.zeros(3), 1.0, p)
    with pytest.raises(InputError, match="shape"):
        one_euro_step(s, np.zeros(4), 2.0, p)
    for bad in (dict(min_cutoff=0.0), dict(min_cutoff=-1), dict(beta=float("nan")), dict(d_cutoff=0), dict(beta="x")):
        with pytest.raises(ConfigError):
            OneEuroParams(**bad)
    assert isinstance(OneEuroState.empty((2,)), OneEuroState)
