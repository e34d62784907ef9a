"""What a zero-phase linear filter can reach (arpose.evaluate.smoothing.zero_phase_frontier)
on signals where the answer is known:

* white noise on a still point: for any zero-phase filter ``h`` the 2D errors and
  accelerations stay Rayleigh-distributed, so the excess-jitter cut is
  ``100 (1 - sqrt(sum (D2 h)^2 / 6))`` and the median error moves by
  ``sigma sqrt(2 ln 2) (sqrt(sum h^2) - 1)``;
* a fast sine plus white noise: the output is ``g`` times the sine plus filtered noise, whose
  errors and accelerations are Rice-distributed (computed here by quadrature). A low-pass
  family cannot pass the sine and remove the noise at once, so none of its points reaches
  75% with the error not above raw; the oracle Wiener filter, which knows where the sine is,
  does."""

import math

import numpy as np
import pytest
from scipy import optimize, stats

from arpose.evaluate.smoothing import (
    FRONTIER_SIGMAS,
    best_on_frontier,
    format_frontier,
    frontier_report,
    gaussian_zero_phase,
    median_error_change,
    wiener_oracle,
    zero_phase_frontier,
)
from arpose.smooth import rts_smooth

TE = 1.0 / 30.0


def _kernel(sigma):
    r = int(math.ceil(4.0 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return k / k.sum()


def _rts_impulse(cutoff, half=90):
    x = np.zeros((2 * half + 1, 1))
    x[half] = 1.0
    return rts_smooth(x, np.arange(2 * half + 1) * TE, cutoff, 3)[:, 0]


def _noise_only(h):
    """(excess cut %, median error change in units of sigma) of filter taps ``h`` on white
    noise over a still point."""
    d2 = np.convolve(h, [1.0, -2.0, 1.0])
    return 100.0 * (1.0 - math.sqrt((d2**2).sum() / 6.0)), math.sqrt(2.0 * math.log(2.0)) * (
        math.sqrt((h**2).sum()) - 1.0
    )


def test_the_gaussian_passes_a_ramp_and_scales_a_sine_without_shifting_it():
    n = 400
    k = np.arange(n)
    ramp = np.stack([3.0 + 0.2 * k, -0.5 * k], axis=1)
    mid = slice(40, n - 40)
    np.testing.assert_allclose(gaussian_zero_phase(ramp, 2.0)[mid], ramp[mid], atol=1e-9)
    w = 2 * np.pi * 0.07
    sine = np.sin(w * k + 0.4)
    h = _kernel(2.0)
    gain = (h * np.cos(w * (np.arange(h.size) - h.size // 2))).sum()
    np.testing.assert_allclose(gaussian_zero_phase(sine, 2.0)[mid], gain * sine[mid], atol=1e-9)
    x = ramp.copy()
    x[100, 0] = np.nan
    y = gaussian_zero_phase(x, 1.0)
    assert np.isnan(y[100, 0]) and np.isfinite(np.delete(y, 100, axis=0)).all()


@pytest.mark.slow
def test_on_white_noise_every_filter_lands_where_the_rayleigh_laws_put_it():
    rng = np.random.default_rng(0)
    n, sigma = 8000, 2.0
    t = np.arange(n) * TE
    truth = np.broadcast_to(rng.uniform(100, 400, (1, 3, 2)), (n, 3, 2)).copy()
    raw = truth + rng.normal(0.0, sigma, truth.shape)
    sigmas, cutoffs = (0.5, 1.0, 2.0), (3.0, 8.0)
    pts = zero_phase_frontier(raw, truth, t, sigmas=sigmas, cutoffs=cutoffs, weights=(1.0,))
    by = {(p.family, p.parameter): p for p in pts}
    for s in sigmas:
        cut, err = _noise_only(_kernel(s))
        assert by["gaussian", s].excess_cut == pytest.approx(cut, abs=1.0)
        assert by["gaussian", s].error_vs_raw == pytest.approx(sigma * err, abs=0.04)
        # The truth is still, so "truth + smoothed error" is the same filter.
        assert by["truth+smoothed error", s].excess_cut == pytest.approx(by["gaussian", s].excess_cut, abs=1e-9)
    for c in cutoffs:
        cut, err = _noise_only(_rts_impulse(c))
        assert by["rts", c].excess_cut == pytest.approx(cut, abs=1.0)
        assert by["rts", c].error_vs_raw == pytest.approx(sigma * err, abs=0.04)
    # Pure noise: smoothing only helps, and every family reaches the target.
    for fam in ("gaussian", "rts", "wiener", "truth+smoothed error"):
        best = best_on_frontier([p for p in pts if p.family == fam], 75.0)
        assert best is not None and best.meets(75.0), fam


def _sine_prediction(h, amp, f0, sigma):
    """(excess cut %, median error change px) of symmetric taps ``h`` on ``amp`` px of a
    ``f0`` Hz sine along x plus white noise of ``sigma`` px on x and y, by quadrature over
    the sine's phase (Rice-distributed accelerations and errors)."""
    w = 2 * np.pi * f0 * TE
    k = np.arange(h.size) - h.size // 2
    g = (h * np.cos(w * k)).sum()
    s = sigma * math.sqrt((h**2).sum())
    sa = sigma * math.sqrt((np.convolve(h, [1.0, -2.0, 1.0]) ** 2).sum()) / TE**2
    kappa = 4.0 * math.sin(w / 2.0) ** 2 / TE**2  # |second difference| of a unit sine
    sn = np.abs(np.sin(np.linspace(0.0, 2 * np.pi, 4000, endpoint=False)))

    def jitter(gain, scale):
        return float((scale * stats.rice.mean(gain * amp * kappa * sn / scale)).mean())

    raw_j, out_j, true_j = jitter(1.0, sigma * math.sqrt(6.0) / TE**2), jitter(g, sa), amp * kappa * 2.0 / np.pi

    def median(bias, scale):
        return optimize.brentq(lambda r: stats.rice.cdf(r / scale, bias * sn / scale).mean() - 0.5, 1e-9, 50.0)

    return 100.0 * (raw_j - out_j) / (raw_j - true_j), median(abs(g - 1.0) * amp, s) - sigma * math.sqrt(
        2.0 * math.log(2.0)
    )


@pytest.mark.slow
def test_a_fast_sine_defeats_every_low_pass_point_but_not_the_oracle():
    rng = np.random.default_rng(1)
    n, amp, f0, sigma = 12000, 10.0, 6.7, 1.0
    t = np.arange(n) * TE
    truth = np.zeros((n, 2, 2))
    truth[:, :, 0] = 300.0 + amp * np.sin(2 * np.pi * f0 * t[:, None] + np.array([0.0, 1.3]))
    truth[:, :, 1] = 200.0
    raw = truth + rng.normal(0.0, sigma, truth.shape)
    pts = zero_phase_frontier(raw, truth, t, cutoffs=(), weights=(0.1, 1.0))
    gauss = [p for p in pts if p.family == "gaussian"]
    for p in gauss:
        if p.parameter <= 2.0:  # wider kernels leave too little of the sine for the quadrature
            cut, err = _sine_prediction(_kernel(p.parameter), amp, f0, sigma)
            assert p.error_vs_raw == pytest.approx(err, abs=0.03)
            assert (p.excess_cut >= 75.0) == (cut >= 75.0)
        assert not p.meets(75.0)  # too little cut (sigma 0.25 frames) or the sine is lost
    assert not best_on_frontier(gauss, 75.0).meets(75.0)
    # The oracle Wiener filter passes the sine's band and removes the noise elsewhere.
    wiener = [p for p in pts if p.family == "wiener"]
    assert best_on_frontier(wiener, 75.0).meets(75.0)
    text = format_frontier("sine", pts, 75.0)
    assert "gaussian" in text and "error above raw" in text and "MEETS" in text


def test_the_oracle_wiener_filter_keeps_the_mean_and_adds_no_phase():
    rng = np.random.default_rng(2)
    n = 600
    k = np.arange(n)
    truth = (50.0 + 5.0 * np.sin(2 * np.pi * k / 60.0))[:, None]
    raw = truth + rng.normal(0.0, 1.0, truth.shape)
    y = wiener_oracle(raw, truth, 1.0)
    assert y.mean() == pytest.approx(raw.mean(), abs=1e-9)
    assert np.abs(y - truth).mean() < 0.5 * np.abs(raw - truth).mean()
    mid = slice(60, n - 60)
    arg = 2 * np.pi * k[mid] / 60.0
    assert abs(math.atan2((y[mid, 0] - 50.0) @ np.cos(arg), (y[mid, 0] - 50.0) @ np.sin(arg))) < 0.02


def test_the_median_error_change_and_its_interval():
    rng = np.random.default_rng(3)
    truth = np.zeros((300, 4, 2))
    raw = truth + rng.normal(0.0, 1.0, truth.shape)
    d, lo, hi = median_error_change(raw, raw, truth)
    assert d == 0.0 and lo == 0.0 and hi == 0.0
    d, lo, hi = median_error_change(0.5 * raw, raw, truth)  # every error halved
    assert d == pytest.approx(-0.5 * np.median(np.linalg.norm(raw, axis=-1)))
    assert lo <= d <= hi < 0.0


def test_the_report_reads_every_cached_clip(tmp_path):
    rng = np.random.default_rng(4)
    n = 120
    t = np.arange(n) * TE
    truth = np.broadcast_to(rng.uniform(100, 300, (1, 33, 2)), (n, 33, 2)).copy()
    image = np.zeros((n, 33, 5), np.float32)
    image[..., :2] = (truth + rng.normal(0, 1.0, truth.shape)) / [640, 480]
    np.savez(tmp_path / "still.npz", t=t, size=np.array([640, 480]), **{"truth.px": truth, "blazepose.image": image})
    text = frontier_report(tmp_path)
    assert text.startswith("still:") and text.count("MEETS") == 4
    assert frontier_report(tmp_path, cut_target=60.0).count("best at >= 60%") == 4
    assert FRONTIER_SIGMAS[0] > 0
