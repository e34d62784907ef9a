"""Bounded statistics (issue 15): every per-frame statistics holder keeps a bounded number of
values however long the run, with exact summaries for short runs and close ones for long runs.

"Close" is stated as a rank tolerance: the estimated q-th percentile must lie between the true
(q - tol)-th and (q + tol)-th percentiles of all values, with tol four standard errors of a
uniform sample of ``capacity`` values (``100 sqrt(p (1 - p) / capacity)``; 2.2 percentile
points for the median, 1.0 for p95 at the default capacity 8192). The generators are seeded, so
these tests are deterministic; a biased sampler (e.g. one that kept the first or the last
values) misses by tens of points.
"""

import math

import numpy as np
import pytest

from arpose.errors import ConfigError
from arpose.pipeline import Pipeline, StageTimer
from arpose.retarget.grounding import GroundingStats
from arpose.retarget.stage import Retargeter, RetargetStage
from arpose.runtime import RECENT_LATENCIES, RuntimeStats
from arpose.stats import DEFAULT_CAPACITY, SampleStats
from arpose.types import Frame, PoseFrame

LONG = 200_000


def _rank_tolerance(q: float, capacity: int = DEFAULT_CAPACITY) -> float:
    p = q / 100.0
    return 4 * 100.0 * math.sqrt(p * (1 - p) / capacity)


def assert_percentile_close(estimate: float, truth: np.ndarray, q: float) -> None:
    """``estimate`` lies within :func:`_rank_tolerance` of the true ``q``-th percentile of
    ``truth`` (finite values), measured in percentile points."""
    a = np.sort(truth[np.isfinite(truth)])
    lo, hi = np.searchsorted(a, estimate, "left"), np.searchsorted(a, estimate, "right")
    rank = 100.0 * (lo + hi) / 2 / a.size  # the estimate's percentile rank among all values
    assert abs(rank - q) <= _rank_tolerance(q), (q, rank)


def _latencies(n: int, seed: int) -> np.ndarray:
    """Synthetic seconds with a long right tail (like frame latencies)."""
    return np.random.default_rng(seed).lognormal(math.log(0.03), 0.4, n)


# -- the holder itself --------------------------------------------------------------------------


def test_a_short_run_is_kept_exactly():
    x = _latencies(DEFAULT_CAPACITY, 0)
    s = SampleStats(recent=16)
    s.extend(x)
    assert s.count == len(s) == x.size and np.array_equal(np.asarray(s), x) and list(s) == x.tolist()
    for q in (0, 5, 50, 95, 100):
        assert s.percentile(q) == np.percentile(x, q)
    assert s.median() == np.median(x) and s.mean == pytest.approx(x.mean(), rel=1e-12)
    assert np.array_equal(s.recent(), x[-16:]) and np.array_equal(s.recent(3), x[-3:])


def test_a_long_run_keeps_capacity_values_an_exact_count_and_close_percentiles():
    x = _latencies(LONG, 1)
    s = SampleStats(recent=8)
    s.extend(x)
    assert s.count == LONG and len(s) == DEFAULT_CAPACITY and s.stored == DEFAULT_CAPACITY + 8
    assert s.mean == pytest.approx(x.mean(), rel=1e-9)
    assert np.array_equal(s.recent(), x[-8:])
    for q in (5, 50, 95, 99):
        assert_percentile_close(s.percentile(q), x, q)


def test_the_sample_is_uniform_over_the_whole_run_not_just_its_start_or_end():
    order = np.arange(LONG, dtype=np.float64)  # the value is its arrival index
    s = SampleStats()
    s.extend(order)
    kept = np.asarray(s) / LONG  # uniform on [0, 1): mean 1/2, sd 1/sqrt(12)
    se = 1 / math.sqrt(12 * DEFAULT_CAPACITY)
    assert abs(kept.mean() - 0.5) < 4 * se and abs(kept.std() - 1 / math.sqrt(12)) < 0.01
    assert np.unique(kept).size == kept.size  # no value kept twice


def test_merging_keeps_exact_counts_and_a_uniform_sample_of_the_union():
    a, b = SampleStats(), SampleStats()
    a.extend([1.0, 2.0])
    b.extend([3.0])
    a.merge(b)
    assert list(a) == [1.0, 2.0, 3.0] and a.count == 3 and a.mean == 2.0

    x = _latencies(LONG, 2)
    first, rest = SampleStats(), SampleStats()
    first.extend(x[:50_000])
    rest.extend(x[50_000:] + 1.0)  # tell the two apart
    first.merge(rest)
    assert first.count == LONG and len(first) == DEFAULT_CAPACITY
    assert first.mean == pytest.approx((x.sum() + LONG - 50_000) / LONG, rel=1e-9)
    share = np.mean(np.asarray(first) < 1.0)  # expected 0.25, hypergeometric sd < 0.005
    assert abs(share - 0.25) < 0.02
    first.extend(np.full(LONG, 5.0))  # adding after a merge stays uniform over everything
    assert abs(np.mean(np.asarray(first) == 5.0) - 0.5) < 0.03


def test_many_small_merges_into_a_full_holder_stay_uniform():
    """Stills retire every person every frame: each merge adds a few values to a full holder."""
    x = _latencies(LONG, 8)
    s = SampleStats()
    s.extend(x[: LONG // 2])
    for part in np.split(x[LONG // 2 :] + 1.0, LONG // 10):  # 20,000 holders of 5 values
        small = SampleStats()
        small.extend(part)
        s.merge(small)
    assert s.count == LONG and len(s) == DEFAULT_CAPACITY
    assert s.mean == pytest.approx(x.mean() + 0.5, rel=1e-9)
    assert abs(np.mean(np.asarray(s) < 1.0) - 0.5) < 4 * math.sqrt(0.25 / DEFAULT_CAPACITY)


def test_empty_holders_read_nan_and_bad_sizes_are_refused():
    s = SampleStats()
    assert math.isnan(s.mean) and math.isnan(s.percentile(50)) and len(s) == 0 and s.recent().size == 0
    with pytest.raises(ConfigError, match="capacity"):
        SampleStats(capacity=0)


# -- every holder in the package, driven with 200,000 samples ----------------------------------


class _Constant:
    """A trivial estimator and stage: returns the same frame result, does nothing."""

    name = "noop"

    def __init__(self, pf: PoseFrame) -> None:
        self.pf = pf

    def process(self, _):
        return self.pf


def test_the_pipeline_timer_stays_bounded_over_200000_frames():
    pf = PoseFrame(frame=Frame(np.zeros((2, 2, 3), np.uint8), 0.0, 0))
    noop = _Constant(pf)
    pipeline = Pipeline(noop, stages=[noop])
    for _ in range(LONG):
        pipeline.analyze(pf.frame)
    summary = pipeline.timer.summary()
    assert set(summary) == {"estimate", "noop"}
    for name, row in summary.items():
        held = pipeline.timer.samples[name]
        assert row["n"] == LONG and held.stored <= DEFAULT_CAPACITY
        assert 0 < row["median_ms"] <= row["p95_ms"] and row["mean_ms"] > 0


def test_the_timer_summary_is_exact_for_short_runs_and_close_for_long_ones():
    x = _latencies(LONG, 3)
    short, long_ = StageTimer(), StageTimer()
    for v in x[:1000]:
        short.add("estimate", v)
    for v in x:
        long_.add("estimate", v)
    s = short.summary()["estimate"]
    assert s["n"] == 1000 and s["median_ms"] == np.median(x[:1000] * 1000.0)
    assert s["p95_ms"] == pytest.approx(np.percentile(x[:1000] * 1000.0, 95), rel=1e-12)
    assert s["mean_ms"] == pytest.approx(x[:1000].mean() * 1000.0, rel=1e-12)
    s = long_.summary()["estimate"]
    assert s["n"] == LONG and s["mean_ms"] == pytest.approx(x.mean() * 1000.0, rel=1e-9)
    assert_percentile_close(s["median_ms"], x * 1000.0, 50)
    assert_percentile_close(s["p95_ms"], x * 1000.0, 95)


def test_runtime_latencies_stay_bounded_and_the_live_readout_is_the_last_frames():
    x, y = _latencies(LONG, 4), _latencies(LONG, 5) + 0.01
    st = RuntimeStats()
    for a, b in zip(x[:100], y[:100]):
        st.latencies.add(a)
        st.display_latencies.add(b)
    assert st.latency_ms(50) == pytest.approx(np.percentile(x[:100], 50) * 1000.0, rel=1e-12)
    assert st.display_latency_ms(95) == pytest.approx(np.percentile(y[:100], 95) * 1000.0, rel=1e-12)
    assert st.recent_display_latency_ms(30) == pytest.approx(np.median(y[70:100]) * 1000.0, rel=1e-12)
    st.latencies.extend(x[100:])
    st.display_latencies.extend(y[100:])
    for held in (st.latencies, st.display_latencies):
        assert held.count == LONG and held.stored <= DEFAULT_CAPACITY + RECENT_LATENCIES
    assert_percentile_close(st.latency_ms(50), x * 1000.0, 50)
    assert_percentile_close(st.display_latency_ms(95), y * 1000.0, 95)
    assert st.recent_display_latency_ms(30) == pytest.approx(np.median(y[-30:]) * 1000.0, rel=1e-12)
    assert math.isnan(RuntimeStats().recent_display_latency_ms())


def test_retarget_reprojection_and_grounding_statistics_stay_bounded_as_people_come_and_go():
    """Four people's root-fit errors and foot statistics (the retarget stage's add paths),
    50,000 samples each; two leave (retired into the stage's totals) and two stay."""
    stage = RetargetStage()
    rng = np.random.default_rng(6)
    reproj = rng.gamma(2.0, 1.5, LONG)  # pixels
    speed = np.where(rng.random(LONG) < 0.01, np.nan, rng.exponential(0.3, LONG))  # m/s, some unknown
    height = np.abs(rng.normal(0.0, 0.02, LONG))  # m
    for pid, part in enumerate(np.split(np.arange(LONG), 4)):
        r = stage.people[pid] = Retargeter()
        r.last_time = 0.0 if pid < 2 else 100.0
        r.reprojection_errors.extend(reproj[part])
        for name, values in (("speed_before", speed), ("speed_after", speed / 4), ("height_before", height)):
            getattr(r.grounder.stats, name).extend(values[part])
        r.grounder.stats.height_after.extend(height[part] / 4)
    stage.process(PoseFrame(frame=Frame(np.zeros((2, 2, 3), np.uint8), 100.0, 0)))  # 0 and 1 leave
    assert sorted(stage.people) == [2, 3]
    holders = [stage._done_reprojection, *vars(stage._done_grounding).values()]
    for r in stage.people.values():
        holders += [r.reprojection_errors, *vars(r.grounder.stats).values()]
    assert all(h.stored <= DEFAULT_CAPACITY for h in holders) and len(holders) == 15

    s = stage.summary()
    assert s["contact_samples"] == LONG
    assert_percentile_close(s["reprojection_px_median"], reproj, 50)
    truth = {"speed_before": speed, "speed_after": speed / 4, "height_before": height, "height_after": height / 4}
    for name, values in truth.items():
        assert_percentile_close(s[f"{name}_median"], values, 50)
        assert_percentile_close(s[f"{name}_p95"], values, 95)


def test_grounding_statistics_are_exact_for_a_short_run():
    rng = np.random.default_rng(7)
    values = {n: rng.exponential(0.3, 500) for n in ("speed_before", "speed_after", "height_before", "height_after")}
    values["speed_before"][::50] = np.nan  # an unknown speed (first contact frame) is skipped
    a, b = GroundingStats(), GroundingStats()
    for name, v in values.items():
        getattr(a, name).extend(v[:200])
        getattr(b, name).extend(v[200:])
    a.extend(b)
    s = a.summary()
    assert s["contact_samples"] == 500
    for name, v in values.items():
        assert s[f"{name}_median"] == np.median(v[np.isfinite(v)])
        assert s[f"{name}_p95"] == np.percentile(v[np.isfinite(v)], 95)
