"""Retargeting scores on the synthetic performer, fed perfect landmarks (the truth's own
markers) so the known answer is ~0 error; no rendering or BlazePose needed."""

import numpy as np
import pytest

from arpose.evaluate import harness
from arpose.evaluate.retarget import angle_errors, retarget_metrics
from arpose.performer import PerformerSource
from arpose.types import Frame, Person, PoseFrame


def _perfect_result(motion: str, seconds: float = 2.0) -> tuple[harness.VariantResult, object]:
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
    return harness.VariantResult(
        harness.Variant("perfect", harness.RAW_SPEC), motion, frames, px, world, vis, ts
    ), truth


def test_angle_errors_are_absolute_differences_with_nan():
    e = angle_errors([[90.0, np.nan]], [[100.0, 5.0]])
    assert e[0, 0] == 10.0 and np.isnan(e[0, 1])


@pytest.mark.parametrize("motion", ["wave", "idle"])
def test_perfect_landmarks_score_near_zero(motion):
    result, truth = _perfect_result(motion)
    m = retarget_metrics(result, truth)
    assert m["angle_err_deg"] < 0.01 and m["elbow_knee_err_deg"] < 0.01
    assert m["root_pos_err_m"] < 0.005
    assert m["root_rot_err_deg"] < 0.1
    assert m["reproj_px"] < 0.01


def test_squat_shows_the_rigid_torso_model_and_the_grounding_of_sliding_feet():
    """The procedural squat bends the Spine (outside the solver's rigid-torso model: the
    Hips take the whole trunk lean, a few degrees off) and keeps the Hips over the stage
    origin, so its feet slide ~0.2 m; grounding pins them, moving the root by as much."""
    result, truth = _perfect_result("squat")
    m = retarget_metrics(result, truth)
    assert m["angle_err_deg"] < 0.01
    assert 1.0 < m["root_rot_err_deg"] < 8.0
    assert m["root_pos_err_m"] > 0.05


def test_retarget_metrics_are_a_default_metric():
    assert retarget_metrics in harness.default_metrics()
