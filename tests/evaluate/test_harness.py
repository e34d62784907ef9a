"""The evaluation harness with an exact stand-in estimator: known answers for every metric."""

from __future__ import annotations

import numpy as np
import pytest

from arpose.estimate import EstimatorConfig
from arpose.evaluate import harness
from arpose.landmarks import NUM_LANDMARKS
from arpose.performer import PerformerSource
from arpose.types import Camera, Person, PoseFrame


class TruthEstimator:
    """Returns the ground truth itself (optionally some frames late, or nobody on some frames)."""

    runs = 0

    def __init__(self, source: PerformerSource, delay: int = 0, missing=()):
        self.source, self.delay, self.missing = source, delay, set(missing)
        TruthEstimator.runs += 1

    def process(self, frame):
        if frame.index in self.missing:
            return PoseFrame(frame, ())
        gt = self.source.truth[max(0, frame.index - self.delay)]
        w, h = self.source.size
        lm = np.full((NUM_LANDMARKS, 5), 1.0, dtype=np.float32)
        lm[:, 0] = gt.markers_px[:, 0] / w
        lm[:, 1] = gt.markers_px[:, 1] / h
        return PoseFrame(frame, (Person(0, lm, gt.markers_mp_world.astype(np.float32), 1.0),))


class Delay:
    """A stage that outputs the person of ``k`` frames ago."""

    name = "delay"

    def __init__(self, k: int):
        self.k, self.buf = k, []

    def process(self, pf):
        self.buf.append(pf.people)
        return pf.with_people(self.buf[max(0, len(self.buf) - 1 - self.k)])


@pytest.fixture(scope="module")
def source():
    # small frames: the stand-in estimator never looks at the pixels
    src = PerformerSource("jumping_jack", seconds=2.4, fps=12.5, camera=Camera.from_fov(160, 120, 60.0))
    yield src
    src.close()


@pytest.mark.slow
def test_perfect_estimates_score_perfectly_and_estimation_is_shared(source):
    TruthEstimator.runs = 0
    cfg = EstimatorConfig(tracking=True)
    variants = [
        harness.Variant("exact", cfg),
        harness.Variant("late", cfg, lambda ctx: [Delay(3)]),
        harness.Variant("other", EstimatorConfig(tracking=False)),
    ]
    res = harness.run_variants(source, variants, make_estimator=lambda c: TruthEstimator(source))
    assert TruthEstimator.runs == 2  # one estimation per distinct estimator config
    rows = harness.score(res, source.truth)
    exact, late, other = rows
    assert exact["detected"] == 1.0 and exact["pck@0.2"] == 1.0
    assert exact["median_px"] == pytest.approx(0.0, abs=1e-3)
    assert exact["mpjpe_pa_mm"] == pytest.approx(0.0, abs=0.01)
    assert exact["jitter"] == pytest.approx(exact["jitter_gt"], rel=1e-4)
    assert exact["lag_frames"] == pytest.approx(0.0, abs=0.05)
    assert late["lag_frames"] == pytest.approx(3.0, abs=0.1)
    assert late["pck@0.2"] < 1.0
    assert other["median_px"] == pytest.approx(0.0, abs=1e-3)
    # each result keeps light frames (no image memory) with the right size
    assert res[0].pose_frames[0].frame.size == source.size
    assert res[0].pose_frames[0].frame.image.strides[:2] == (0, 0)


def test_missed_frames_count_against_detection_and_pck(source):
    miss = range(0, source.frame_count, 4)
    res = harness.run_variants(
        source, [harness.Variant("gappy")], make_estimator=lambda c: TruthEstimator(source, missing=miss)
    )
    row = harness.score(res, source.truth)[0]
    assert row["detected"] == pytest.approx(1 - len(miss) / source.frame_count)
    assert row["pck@0.2"] == pytest.approx(row["detected"])
    assert row["median_px"] == pytest.approx(0.0, abs=1e-3)


def test_registries_take_variants_and_metrics(source):
    before_v, before_m = list(harness.VARIANTS), list(harness.METRICS)
    try:
        harness.register_variant(harness.Variant("extra"))
        harness.register_variant(harness.Variant("extra", description="replaced"))
        assert [v.name for v in harness.VARIANTS].count("extra") == 1

        @harness.register_metric
        def frames(result, truth):
            return {"frames": float(len(result.pose_frames)), "gt_frames": float(len(truth))}

        res = harness.run_variants(source, [harness.Variant("x")], make_estimator=lambda c: TruthEstimator(source))
        row = harness.score(res, source.truth)[0]
        assert row["frames"] == row["gt_frames"] == source.frame_count
        assert "pck@0.2" in row
    finally:
        harness.VARIANTS[:] = before_v
        harness.METRICS[:] = before_m
