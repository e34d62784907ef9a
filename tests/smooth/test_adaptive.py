"""The adaptive zero-lag smoother (arpose.smooth.rts.AdaptiveFixedLagSmoother) and the zero-lag
smoother's image landmarks through it: the likelihood finds the cutoff that data drawn from
the model were made with; whatever it picks, each channel is one fixed-cutoff RTS smoother,
so a ramp passes unchanged, a step's response is antisymmetric and a sine keeps its phase
(zero lag); a landmark that moves little is smoothed harder than a fast one."""

import math

import numpy as np
import pytest

from arpose.errors import ConfigError
from arpose.evaluate import metrics as M
from arpose.evaluate.smoothing import excess_cut
from arpose.landmarks import NUM_LANDMARKS
from arpose.smooth import OfflineConfig, smooth_sequence
from arpose.smooth.offline import IMAGE_GRID, IMAGE_SHIFT
from arpose.smooth.rts import (
    REFERENCE_RATE,
    AdaptiveFixedLagSmoother,
    process_covariance,
    process_density,
    rts_smooth,
    transition,
)

TE = 1.0 / REFERENCE_RATE
GRID = np.array(IMAGE_GRID)
WHOLE = 1.0e6  # a lag longer than any sequence here: one choice from all the evidence


def _run(sm, x, t):
    out = []
    for k in range(len(t)):
        out += sm.push(x[k], t[k])
    out += sm.flush()
    assert [tr for tr, _ in out] == list(t)
    return np.array([v for _, v in out])


def _draw_from_model(cutoff, n, channels, rng, order=3):
    """``(n, channels)`` samples of the smoother's own model: a signal of ``order`` integrated
    white noise of density ``process_density(cutoff)`` (unit measurement variance), plus unit
    white measurement noise, every TE seconds."""
    F = transition(TE, order)
    L = np.linalg.cholesky(process_covariance(TE, order) * float(process_density(cutoff, order)))
    state = np.zeros((channels, order))
    x = np.empty((n, channels))
    for k in range(n):
        state = state @ F.T + rng.normal(size=(channels, order)) @ L.T
        x[k] = state[:, 0] + rng.normal(size=channels)
    return x


@pytest.mark.slow
def test_the_likelihood_picks_the_cutoff_the_data_were_drawn_from():
    rng = np.random.default_rng(0)
    n = 2000
    slow = _draw_from_model(GRID[3], n, 4, rng)  # 1.69 Hz
    fast = _draw_from_model(GRID[7], n, 4, rng)  # 8.54 Hz
    x = np.concatenate([slow, fast], axis=1)
    groups = np.repeat([0, 1], 4)
    sm = AdaptiveFixedLagSmoother(GRID, groups, shift=0, lag=WHOLE)
    _run(sm, x, np.arange(n) * TE)
    np.testing.assert_array_equal(sm.chosen(), [3, 7])
    ll = sm.log_likelihood()
    assert ll.shape == (GRID.size, 2)
    # The likelihood falls off on both sides of the true cutoff.
    assert ll[2, 0] < ll[3, 0] > ll[4, 0] and ll[6, 1] < ll[7, 1] > ll[8, 1]
    # With a shift, frames come from the bank that many steps sharper.
    shifted = AdaptiveFixedLagSmoother(GRID, groups, shift=1, lag=WHOLE)
    _run(shifted, x, np.arange(n) * TE)
    np.testing.assert_array_equal(shifted.chosen(), [4, 8])
    np.testing.assert_allclose(shifted.cutoffs(), np.repeat(GRID[[4, 8]], 4))


def test_each_channel_is_one_fixed_cutoff_smoother_so_a_sine_keeps_its_phase():
    rng = np.random.default_rng(1)
    t = np.arange(900) * TE
    freq, phase = np.array([0.4, 3.0]), np.array([0.0, 1.0])
    truth = np.sin(2 * np.pi * freq * t[:, None] + phase)
    x = truth + rng.normal(0.0, 0.05, truth.shape)
    sm = AdaptiveFixedLagSmoother(GRID, np.array([0, 1]), shift=IMAGE_SHIFT, lag=WHOLE)
    y = _run(sm, x, t)
    cut = sm.cutoffs()
    assert cut[0] < cut[1]  # the slow sine is smoothed harder than the fast one
    np.testing.assert_allclose(y, rts_smooth(x, t, cut, 3), atol=1e-9)
    mid = slice(150, 750)  # whole periods of both sines, away from the ends
    for c in range(2):  # no lag: the output has no quadrature component (phase shift 0)
        arg = 2 * np.pi * freq[c] * t[mid] + phase[c]
        in_phase, quadrature = y[mid, c] @ np.sin(arg), y[mid, c] @ np.cos(arg)
        assert abs(math.atan2(quadrature, in_phase)) < 0.01  # radians: under 1/600 of a period
        assert in_phase / (np.sin(arg) @ np.sin(arg)) > 0.95  # the motion passes


def test_a_ramp_passes_unchanged_and_a_step_response_is_antisymmetric():
    t = np.arange(400) * TE
    ramp = np.stack([2.0 + 0.7 * t, -1.0 - 3.0 * t], axis=1)
    y = _run(AdaptiveFixedLagSmoother(GRID, np.array([0, 0]), IMAGE_SHIFT, lag=1.0), ramp, t)
    np.testing.assert_allclose(y, ramp, atol=1e-8)
    s = 200
    step = (np.arange(400) >= s).astype(float)[:, None]
    y = _run(AdaptiveFixedLagSmoother(GRID, np.array([0]), IMAGE_SHIFT, lag=WHOLE), step, t)[:, 0]
    j = np.arange(60)
    np.testing.assert_allclose(y[s - 1 - j] + y[s + j], 1.0, atol=1e-9)
    assert y[s - 1] < 0.5 < y[s]


def test_the_stream_settles_on_the_whole_sequence_choice():
    rng = np.random.default_rng(2)
    n = 600
    x = np.concatenate([_draw_from_model(GRID[3], n, 2, rng), _draw_from_model(GRID[7], n, 2, rng)], axis=1)
    t = np.arange(n) * TE
    groups = np.repeat([0, 1], 2)
    whole = AdaptiveFixedLagSmoother(GRID, groups, 0, lag=WHOLE)
    stream = AdaptiveFixedLagSmoother(GRID, groups, 0, lag=1.0)
    y_whole, y_stream = _run(whole, x, t), _run(stream, x, t)
    np.testing.assert_array_equal(stream.chosen(), whole.chosen())
    # The last blocks are released with the same evidence, so they agree to the smoother's
    # fixed-lag precision.
    np.testing.assert_allclose(y_stream[-60:], y_whole[-60:], atol=0.02)


def test_a_still_landmark_is_smoothed_harder_than_a_moving_one_and_the_image_meets_the_target():
    rng = np.random.default_rng(3)
    W, H = 640, 480
    t = np.arange(240) / 30.0
    truth = np.empty((t.size, NUM_LANDMARKS, 2))
    truth[:] = rng.uniform(100, 400, (NUM_LANDMARKS, 2))
    moving = np.arange(NUM_LANDMARKS) >= 15  # hands and legs wave at 1.5 Hz, 60 px
    truth[:, moving, 0] += 60 * np.sin(2 * np.pi * 1.5 * t)[:, None]
    raw = truth + rng.normal(0, 1.0, truth.shape)
    img = np.zeros((t.size, NUM_LANDMARKS, 5), np.float32)
    img[..., 0], img[..., 1], img[..., 3], img[..., 4] = raw[..., 0] / W, raw[..., 1] / H, 0.99, np.nan
    world = np.zeros((t.size, NUM_LANDMARKS, 3), np.float32)
    s_img, _ = smooth_sequence(img, world, t)
    fixed, _ = smooth_sequence(img, world, t, OfflineConfig(image_adaptive=False))
    px, fixed_px = s_img[..., :2] * [W, H], fixed[..., :2] * [W, H]
    err = lambda p, sel: np.linalg.norm(p - truth, axis=-1)[:, sel].mean()  # noqa: E731
    # Still points: far closer to the truth than the fixed 8 Hz smoother gets them.
    assert err(px, ~moving) < 0.7 * err(fixed_px, ~moving)
    cut = excess_cut(M.jitter(px, t), M.jitter(raw, t), M.jitter(truth, t))
    assert cut >= 75.0
    assert M.median_px_error(px, truth) < M.median_px_error(fixed_px, truth) < M.median_px_error(raw, truth)


def test_misuse_is_a_typed_error():
    with pytest.raises(ConfigError):
        AdaptiveFixedLagSmoother([2.0, 1.0], np.array([0]))
    with pytest.raises(ConfigError):
        AdaptiveFixedLagSmoother(GRID, np.array([-1, 0]))
    with pytest.raises(ConfigError):
        AdaptiveFixedLagSmoother(GRID, np.array([0]), shift=GRID.size)
    with pytest.raises(ConfigError):
        OfflineConfig(image_adaptive=1)
    assert math.isclose(IMAGE_GRID[IMAGE_SHIFT] / IMAGE_GRID[0], 1.5)
