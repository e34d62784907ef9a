"""The zero-lag RTS smoother (arpose.smooth.rts) against analytic answers: polynomials pass
unchanged, a sine is scaled by the model's Wiener gain with no phase, a step's response is the
running sum of the smoother's impulse response and is symmetric about the step (zero lag); NaN
gaps, resets, uneven timestamps, and the fixed-lag form against the whole-sequence one."""

import numpy as np
import pytest

from arpose.errors import ConfigError, InputError
from arpose.smooth.rts import REFERENCE_RATE, FixedLagSmoother, frequency_response, rts_smooth

TE = 1.0 / REFERENCE_RATE


def _uneven(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.uniform(0.5, 1.5, n) * TE)


@pytest.mark.parametrize("order", [2, 3])
def test_a_ramp_passes_unchanged_at_any_spacing_and_at_both_ends(order):
    for t in (np.arange(200) * TE, _uneven(200)):
        x = np.stack([2.0 + 0.7 * t, -1.0 - 3.0 * t], axis=1)
        y = rts_smooth(x, t, 2.0, order)
        np.testing.assert_allclose(y, x, atol=1e-8)


def test_a_parabola_passes_unchanged_with_the_constant_acceleration_model():
    t = _uneven(200, seed=1)
    x = (0.3 + 0.5 * t - 1.7 * t**2)[:, None]
    np.testing.assert_allclose(rts_smooth(x, t, 2.0, 3), x, atol=1e-8)
    # The constant-velocity model cannot follow a parabola exactly: it must differ.
    assert np.abs(rts_smooth(x, t, 2.0, 2) - x).max() > 1e-4


@pytest.mark.parametrize("order", [2, 3])
@pytest.mark.parametrize("f", [0.5, 3.0, 6.0])
def test_a_sine_is_scaled_by_the_wiener_gain_with_no_phase(order, f):
    t = np.arange(1200) * TE
    x = np.sin(2 * np.pi * f * t + 0.3)
    y = rts_smooth(x[:, None], t, 3.0, order)[:, 0]
    gain = frequency_response(f, TE, 3.0, order)[0]
    mid = slice(400, 800)
    # Exactly gain * input: the output is neither shifted (no lag) nor phase-distorted.
    np.testing.assert_allclose(y[mid], gain * x[mid], atol=1e-9)
    # The continuous-time approximation 1 / (1 + (f / cutoff) ** (2 order)) holds closely.
    assert gain == pytest.approx(1.0 / (1.0 + (f / 3.0) ** (2 * order)), abs=0.03)


def test_the_cutoff_is_the_half_gain_frequency_at_the_reference_rate():
    for order in (2, 3):
        assert frequency_response(2.5, TE, 2.5, order)[0] == pytest.approx(0.5, abs=2e-3)


@pytest.mark.parametrize("order", [2, 3])
def test_a_step_response_is_the_impulse_response_summed_and_symmetric(order):
    n, s = 800, 400
    t = np.arange(n) * TE
    x = (np.arange(n) >= s).astype(float)
    y = rts_smooth(x[:, None], t, 2.0, order)[:, 0]
    # The impulse response from the frequency response (inverse DTFT on a fine grid).
    m = 8192
    freqs = np.fft.rfftfreq(m, d=TE)
    h = np.fft.irfft(frequency_response(freqs, TE, 2.0, order), n=m)
    k = np.arange(-60, 60)
    expected = np.cumsum(np.concatenate([h[-200:], h[:60]]))[200 + k]  # sum of h[n] for n <= k
    np.testing.assert_allclose(y[s + k], expected, atol=1e-6)
    # Zero lag: the response is antisymmetric about the step (half way between s-1 and s).
    j = np.arange(0, 60)
    np.testing.assert_allclose(y[s - 1 - j] + y[s + j], 1.0, atol=1e-9)
    assert y[s - 1] < 0.5 < y[s]


def test_nan_stays_nan_and_a_short_gap_is_bridged_by_the_model():
    t = np.arange(120) * TE
    x = (1.0 + 0.5 * t)[:, None].repeat(2, axis=1)
    x[40:46, 0] = np.nan
    y = rts_smooth(x, t, 2.0, 3, reset_gap=0.5)
    assert np.isnan(y[40:46, 0]).all() and np.isfinite(y[:, 1]).all()
    np.testing.assert_allclose(y[~np.isnan(x)], x[~np.isnan(x)], atol=1e-8)


def test_a_gap_longer_than_the_reset_gap_splits_the_sequence():
    rng = np.random.default_rng(3)
    t = np.arange(200) * TE
    x = rng.normal(size=(200, 3))
    x[90:110] = np.nan  # 20 frames, 0.67 s > 0.5 s
    y = rts_smooth(x, t, 2.0, 3, reset_gap=0.5)
    np.testing.assert_allclose(y[:90], rts_smooth(x[:90], t[:90], 2.0, 3), atol=1e-12)
    np.testing.assert_allclose(y[110:], rts_smooth(x[110:], t[110:], 2.0, 3), atol=1e-12)
    # Without the reset, the two halves inform each other.
    assert np.abs(rts_smooth(x, t, 2.0, 3)[85:90] - y[85:90]).max() > 1e-6


def test_a_distrusted_sample_moves_the_output_less():
    t = np.arange(100) * TE
    x = np.zeros((100, 1))
    x[50] = 1.0
    plain = rts_smooth(x, t, 3.0, 3)[50, 0]
    noise = np.ones((100, 1))
    noise[50] = 100.0
    assert rts_smooth(x, t, 3.0, 3, noise)[50, 0] < plain / 10.0


def test_fixed_lag_releases_every_frame_once_in_order_and_matches_the_whole_sequence():
    rng = np.random.default_rng(4)
    t = _uneven(400, seed=5)
    x = rng.normal(size=(400, 6))
    x[100:104, 2] = np.nan
    whole = rts_smooth(x, t, 3.0, 3, reset_gap=0.5)
    fl = FixedLagSmoother(3.0, 3, lag=1.0, reset_gap=0.5)
    out, held = [], 0
    for k in range(400):
        released = fl.push(x[k], t[k])
        out += released
        held = max(held, k + 1 - len(out))
        assert all(t[k] - tr >= 1.0 for tr, _ in released)  # at least lag seconds behind
    out += fl.flush()
    assert [tr for tr, _ in out] == list(t)
    got = np.array([v for _, v in out])
    assert np.array_equal(np.isnan(got), np.isnan(whole))
    np.testing.assert_allclose(got, whole, atol=2e-3)  # unit noise: negligible
    assert held <= int(2.0 / (0.5 * TE)) + 2  # at most 2 lag seconds of frames


def test_zero_lag_setting_releases_at_once_as_a_causal_filter():
    t = np.arange(50) * TE
    x = np.sin(t)[:, None]
    fl = FixedLagSmoother(3.0, 3, lag=0.0)
    for k in range(50):
        (released,) = fl.push(x[k], t[k])
        assert released[0] == t[k]


def test_misuse_is_a_typed_error():
    t = np.arange(5) * TE
    with pytest.raises(ConfigError):
        rts_smooth(np.zeros((5, 1)), t, 2.0, order=4)
    with pytest.raises(InputError):
        rts_smooth(np.zeros((5, 1)), t[::-1], 2.0)
    with pytest.raises(InputError):
        rts_smooth(np.zeros((5, 1)), t[:4], 2.0)
    with pytest.raises(ConfigError):
        FixedLagSmoother(2.0, lag=-1.0)
