"""Prop steadiness scores: known answers for wobble, jitter and the jitter cut, and the crown on
the synthetic performer fed perfect landmarks (the truth's own markers): it sits where the true
crown is and shakes no more than the truth; the bone-step columns too."""

import numpy as np
import pytest

from arpose.evaluate import harness
from arpose.evaluate.props import (
    NAIVE_LANDMARKS,
    jitter_cut,
    jitter_px,
    naive_anchor_px,
    prop_metrics,
    prop_part,
    true_anchor_px,
    wobble_px,
)
from arpose.evaluate.retarget import retarget_metrics
from arpose.performer import PerformerSource
from arpose.types import Frame, Person, PoseFrame


def test_wobble_is_the_rms_after_the_mean_offset():
    true = np.zeros((4, 2))
    anchor = np.array([[10.0, 5.0], [12.0, 5.0], [10.0, 5.0], [12.0, 5.0]])  # offset (11, 5) +- 1 px
    assert wobble_px(anchor, true) == pytest.approx(1.0)
    anchor[1] = np.nan  # frames without an anchor are left out
    assert wobble_px(anchor, true) == pytest.approx(np.sqrt(2.0) * 2.0 / 3.0)
    assert np.isnan(wobble_px(anchor[:1], true[:1]))


def test_jitter_is_the_mean_second_difference():
    glide = np.stack([np.arange(10.0) * 3.0, np.zeros(10)], axis=1)
    assert jitter_px(glide) == 0.0  # a steady glide does not shake
    shake = glide.copy()
    shake[::2, 1] += 0.5  # +-0.25 px about a line: second differences of 1 px
    assert jitter_px(shake) == pytest.approx(1.0)
    assert np.isnan(jitter_px(glide[:2]))


def test_jitter_cut_is_the_share_of_the_naive_excess_removed():
    assert jitter_cut(0.4, 1.0, 0.0) == pytest.approx(60.0)
    assert jitter_cut(0.5, 1.0, 0.25) == pytest.approx(100.0 * (1 - 0.25 / 0.75))
    assert np.isnan(jitter_cut(0.5, 0.2, 0.2))  # no excess to remove


def test_naive_anchor_is_the_mean_of_the_raw_eyes_and_ears():
    px = np.zeros((2, 33, 2))
    px[:, list(NAIVE_LANDMARKS)] = np.arange(8.0)[None, :, None]
    np.testing.assert_allclose(naive_anchor_px(px), 3.5)


def _perfect_result(motion: str, seconds: float):
    source = PerformerSource(motion, seconds=seconds, fps=30.0)
    truth = source.truth
    w, h = source.size
    frames = []
    for f in range(len(truth)):
        lm = np.ones((33, 5), np.float32)
        lm[:, :2] = truth.markers_px[f] / [w, h]
        person = Person(0, lm, truth.markers_mp_world[f].astype(np.float32), 1.0)
        img = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (h, w, 3))
        frames.append(PoseFrame(Frame(img, float(truth.timestamps[f]), f), (person,)))
    px, world, vis, ts = harness.arrays_from_pose_frames(frames, source.size)
    result = harness.VariantResult(harness.Variant("perfect", harness.RAW_SPEC), motion, frames, px, world, vis, ts)
    return result, truth


@pytest.mark.parametrize("motion", ["idle", "wave", "squat"])
def test_a_crown_on_perfect_landmarks_is_the_true_crown(motion):
    result, truth = _perfect_result(motion, 1.5)
    m = prop_metrics(result, truth, baseline=result)
    # the true crown of a still head does not move; of the squatting head it glides smoothly
    assert m["prop_jitter_gt"] == pytest.approx(0.0, abs=1e-9) or motion == "squat"
    assert m["prop_wobble_px"] < 0.5 and m["prop_jitter_px"] <= m["prop_jitter_gt"] + 0.05  # the filters' lag
    # the crown pinned to the eyes wobbles as the head pitches in the squat (eyes are not the crown)
    if motion == "squat":
        assert m["naive_wobble_px"] > 1.0 > m["prop_wobble_px"]
    true = true_anchor_px(truth, prop_part())
    assert np.isfinite(true).all()


def test_perfect_landmarks_step_no_more_than_the_truth():
    result, truth = _perfect_result("jumping_jack", 1.5)
    m = retarget_metrics(result, truth)
    assert m["bone_step_max_gt_deg"] == pytest.approx(13.7, abs=0.5)
    assert m["bone_step_max_deg"] <= m["bone_step_max_gt_deg"] + 1.0


def test_prop_metrics_are_a_default_metric():
    assert prop_metrics in harness.default_metrics()
