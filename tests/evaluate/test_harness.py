"""The evaluation harness with exact stand-in estimators: known answers for every metric,
variants as named specs, metrics given their baseline explicitly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from arpose.errors import ConfigError
from arpose.evaluate import harness
from arpose.evaluate.retarget import retarget_metrics
from arpose.evaluate.smoothing import smoothing_metrics
from arpose.landmarks import NUM_LANDMARKS
from arpose.performer import PerformerSource
from arpose.spec import CsvOutput, PipelineSpec, RunningMode, SmoothSpec
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


def _no_stages(spec, camera):
    return []


@pytest.mark.slow
def test_perfect_estimates_score_perfectly_and_estimation_is_shared(source):
    TruthEstimator.runs = 0
    raw = harness.RAW_SPEC
    variants = [
        harness.Variant("exact", raw),
        harness.Variant("late", replace(raw, smooth=SmoothSpec())),  # shares the estimation run
        harness.Variant("other", replace(raw, estimator=replace(raw.estimator, min_detection_confidence=0.7))),
    ]
    specs = []

    def stages(spec, camera):  # a known answer: "smoothing" here delays by exactly 3 frames
        specs.append(spec)
        assert camera == source.camera
        return [Delay(3)] if spec.smoothing else []

    res = harness.run_variants(source, variants, lambda spec: TruthEstimator(source), stages)
    assert TruthEstimator.runs == 2  # one estimation per distinct estimator setting
    assert specs == [v.spec for v in variants]  # fresh stages per variant, from its own spec
    rows = harness.score(res, source.truth, baseline=res[0], metrics=[harness.core_metrics])
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


def test_missed_frames_count_against_detection_and_pck(blank_clip):
    source = blank_clip
    miss = range(0, source.frame_count, 4)
    res = harness.run_variants(
        source,
        [harness.Variant("gappy", harness.RAW_SPEC)],
        make_estimator=lambda spec: TruthEstimator(source, missing=miss),
    )
    row = harness.score(res, source.truth, baseline=res[0], metrics=[harness.core_metrics])[0]
    assert row["detected"] == pytest.approx(1 - len(miss) / source.frame_count)
    assert row["pck@0.2"] == pytest.approx(row["detected"])
    assert row["median_px"] == pytest.approx(0.0, abs=1e-3)


def test_default_variants_are_named_specs():
    variants = harness.default_variants()
    assert [v.name for v in variants] == ["blazepose", "mediapipe-smoothed", "one-euro", "offline", "blazepose-litert"]
    raw, peer, ours, offline, litert = variants
    assert litert.spec.estimator.backend == "litert" and not litert.spec.smoothing
    assert offline.spec.smooth.mode == "offline" and harness.offline_stages(offline.spec)
    assert not harness.offline_stages(ours.spec) and not offline.spec.retarget.enabled
    assert raw == harness.raw_variant() and raw.spec == harness.RAW_SPEC
    assert not raw.spec.smoothing and not raw.spec.retarget.enabled
    assert raw.spec.estimator.mode is RunningMode.VIDEO and not raw.spec.estimator.mediapipe_smoothing
    assert peer.spec.estimator.mediapipe_smoothing and not peer.spec.smoothing and not peer.spec.retarget.enabled
    assert ours.spec.smooth == SmoothSpec() and ours.spec.smoothing and not ours.spec.retarget.enabled
    # raw and ours share one BlazePose run; MediaPipe's smoothing needs its own
    key = harness.estimation_key
    assert key(raw.spec) == key(ours.spec) != key(peer.spec)
    assert all(v.description for v in variants)
    # a new list each call: changing one changes nothing elsewhere
    variants.clear()
    assert len(harness.default_variants()) == 5


def test_pipeline_variant_is_the_options_spec_on_a_video_without_outputs():
    spec = PipelineSpec(
        estimator=replace(PipelineSpec().estimator, mode=RunningMode.LIVE),
        smooth=SmoothSpec(min_cutoff=3.0),
        outputs=(CsvOutput("x.csv"),),
    )
    (*_, pipe) = harness.default_variants(spec)
    assert pipe.name == "pipeline"
    assert pipe.spec == replace(spec, estimator=replace(spec.estimator, mode=RunningMode.VIDEO), outputs=())
    # the default backend (auto: LiteRT for one person) shares the blazepose-litert row's run
    litert = next(v for v in harness.default_variants() if v.name == harness.LITERT_VARIANT_NAME)
    assert harness.estimation_key(pipe.spec) == harness.estimation_key(litert.spec)
    assert harness.estimation_key(pipe.spec) != harness.estimation_key(harness.RAW_SPEC)
    mediapipe = replace(spec, estimator=replace(spec.estimator, backend="mediapipe"))
    assert harness.estimation_key(harness.pipeline_variant(mediapipe).spec) == harness.estimation_key(harness.RAW_SPEC)
    # props worn with occlusion need masks: another estimator setting
    masked = harness.pipeline_variant(replace(spec, overlay=replace(spec.overlay, props=("crown",))))
    assert harness.estimation_key(masked.spec).segmentation
    assert harness.estimation_key(masked.spec) != harness.estimation_key(harness.RAW_SPEC)


def test_default_metrics_are_core_smoothing_and_retargeting():
    from arpose.evaluate.swaps import swap_metrics

    metrics = harness.default_metrics()
    assert metrics[:3] == [harness.core_metrics, smoothing_metrics, retarget_metrics]
    assert swap_metrics in metrics
    harness.default_metrics().clear()
    assert len(harness.default_metrics()) == len(metrics)


def test_metrics_receive_the_raw_baseline_even_when_its_row_is_not_selected(blank_clip):
    source = blank_clip
    TruthEstimator.runs = 0
    seen = []

    def baseline_metric(result, truth, *, baseline):
        seen.append((result.variant.name, baseline.variant.name))
        return {"frames": float(len(result.pose_frames)), "baseline_frames": float(len(baseline.pose_frames))}

    raw = harness.RAW_SPEC
    variant = harness.Variant("peer", replace(raw, estimator=replace(raw.estimator, min_tracking_confidence=0.6)))
    run = harness.run_motion(
        source, [variant], [baseline_metric], make_estimator=lambda spec: TruthEstimator(source), make_stages=_no_stages
    )
    assert TruthEstimator.runs == 2  # the variant's own run and the baseline's
    assert seen == [("peer", "blazepose")]
    assert run.rows == [
        {
            "motion": "jumping_jack",
            "variant": "peer",
            "frames": source.frame_count,
            "baseline_frames": source.frame_count,
        }
    ]
    assert [r.variant.name for r in run.results] == ["peer"] and run.baseline.variant == harness.raw_variant()
    # the saved arrays include the baseline, to tune smoothing offline from raw
    arrays = run.arrays()
    assert {"peer.image", "peer.world", "blazepose.image", "blazepose.world"} <= set(arrays)


def test_run_motion_rejects_ambiguous_row_names(source):
    v = harness.Variant("a", harness.RAW_SPEC)
    with pytest.raises(ConfigError, match="unique"):
        harness.run_motion(source, [v, replace(v, description="again")])
    with pytest.raises(ConfigError, match="baseline"):
        harness.run_motion(source, [harness.Variant("blazepose", PipelineSpec())])
