"""Swap metrics (arpose.evaluate.swaps) with known answers, and how the harness and the
builder use the left/right stage."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from arpose.build import make_stages
from arpose.evaluate import harness
from arpose.evaluate.swaps import limb_errors, limb_pck, oracle_px, swap_metrics, swapped_frames
from arpose.landmarks import MIRROR_PERMUTATION
from arpose.landmarks import PoseLandmark as L
from arpose.performer.motions import PROCEDURAL
from arpose.performer.performer import pose_sequence
from arpose.spec import EstimatorSpec, PipelineSpec, RunningMode, TrackingSpec
from arpose.types import Camera

CAMERA = Camera.from_fov(640, 480, 60.0)


@pytest.fixture(scope="module")
def truth():
    """2 s of the slow turn (facing the camera, then profile at 1.5 s), exact markers."""
    return pose_sequence(PROCEDURAL["turn"], np.arange(60) / 30.0, CAMERA)


def exchanged(px, frames):
    out = px.copy()
    out[frames] = px[frames][:, MIRROR_PERMUTATION]
    return out


def test_swapped_frames_are_the_injected_ones_but_not_profile_views(truth):
    gt, torso = truth.markers_px, truth.torso_px
    pred = exchanged(gt, np.r_[5:15, 44:46])
    got = swapped_frames(pred, gt, torso)
    expected = np.zeros(60, bool)
    expected[5:15] = True  # facing the camera: the exchange is across the body
    np.testing.assert_array_equal(got, expected)  # 44, 45: near profile, both labellings fit
    e, x = limb_errors(pred, gt)
    assert np.all(x[5:15] < 1e-9) and np.all(e[5:15] > 0.3 * torso[5:15])
    assert not swapped_frames(gt, gt, torso).any()
    missing = pred.copy()
    missing[6] = np.nan
    assert not swapped_frames(missing, gt, torso)[6]  # nobody found: not a swap


def test_oracle_and_limb_pck(truth):
    gt, torso = truth.markers_px, truth.torso_px
    pred = exchanged(gt, np.r_[0:30])
    assert limb_pck(gt, gt, torso) == 1.0
    raw = limb_pck(pred, gt, torso)
    assert raw < 0.6
    np.testing.assert_allclose(oracle_px(pred, gt), gt, atol=1e-9)
    assert limb_pck(oracle_px(pred, gt), gt, torso) == 1.0
    # only limbs count: a wrong nose changes nothing
    noisy = gt.copy()
    noisy[:, L.NOSE] += 500.0
    assert limb_pck(noisy, gt, torso) == 1.0


def test_swap_metrics_columns_and_recovery(truth):
    gt = truth.markers_px
    raw = SimpleNamespace(image_px=exchanged(gt, np.r_[0:20]))
    half = SimpleNamespace(image_px=exchanged(gt, np.r_[0:10]))
    row = swap_metrics(half, truth, baseline=raw)
    assert row["swapped_raw"] == 20 and row["swapped"] == 10
    assert row["limb_pck@0.2_oracle"] == 1.0
    gain = row["limb_pck@0.2_oracle"] - row["limb_pck@0.2_raw"]
    assert row["swap_recovery"] == pytest.approx((row["limb_pck@0.2"] - row["limb_pck@0.2_raw"]) / gain)
    assert 0.4 < row["swap_recovery"] < 0.6
    assert swap_metrics(SimpleNamespace(image_px=gt), truth, baseline=raw)["swap_recovery"] == pytest.approx(1.0)
    clean = swap_metrics(raw, truth, baseline=SimpleNamespace(image_px=gt))
    assert np.isnan(clean["swap_recovery"])  # raw has nothing to recover
    assert clean["swapped"] == 20 and clean["swapped_raw"] == 0


def test_harness_scores_swaps_and_raw_is_raw():
    from arpose.evaluate.swaps import swap_metrics as fn

    assert fn in harness.default_metrics()
    assert not harness.RAW_SPEC.tracking.fix_swaps
    assert all(not v.spec.tracking.fix_swaps for v in harness.default_variants())
    assert harness.default_variants(PipelineSpec())[-1].spec.tracking.fix_swaps  # arpose: on


@pytest.mark.parametrize(
    "spec, names",
    [
        (PipelineSpec(), ["swap", "smooth", "retarget"]),
        (PipelineSpec(estimator=EstimatorSpec(max_people=3)), ["track", "swap", "smooth", "retarget"]),
        (PipelineSpec(tracking=TrackingSpec(fix_swaps=False)), ["smooth", "retarget"]),
        (PipelineSpec(estimator=EstimatorSpec(mode=RunningMode.IMAGE)), ["retarget"]),
        (PipelineSpec(estimator=EstimatorSpec(mode=RunningMode.LIVE)), ["swap", "smooth", "retarget"]),
    ],
)
def test_the_swap_stage_comes_before_smoothing_for_one_or_several_people(spec, names):
    assert [s.name for s in make_stages(spec, CAMERA)] == names
