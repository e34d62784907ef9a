"""Issue 15: ``arpose eval`` rows do not depend on the order or the selection of variants.

Every row is scored from its own variant's result, the motion's truth and the raw baseline,
which the harness always computes. Checked with a deterministic noisy stand-in for BlazePose
(fast, every default metric) and with BlazePose itself through ``arpose eval --json`` (slow).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from arpose.app.cli import build_parser, main
from arpose.app.cmd_eval import select_variants
from arpose.evaluate import harness
from arpose.landmarks import NUM_LANDMARKS
from arpose.types import Person, PoseFrame


class NoisyTruthEstimator:
    """The ground truth plus BlazePose-like noise (4 mm across, 15 mm in depth, 1.5 px), drawn
    from the frame index and the estimator setting: the same setting gives the same estimates
    in every run, MediaPipe's smoothing setting other ones (as a separate BlazePose run would)."""

    runs: list = []

    def __init__(self, source, spec):
        self.source, self.smoothed = source, spec.estimator.mediapipe_smoothing
        NoisyTruthEstimator.runs.append(harness.estimation_key(spec))

    def process(self, frame):
        rng = np.random.default_rng((frame.index, int(self.smoothed)))
        gt = self.source.truth[frame.index]
        w, h = self.source.size
        scale = 0.5 if self.smoothed else 1.0
        world = gt.markers_mp_world + scale * rng.normal(0, 1, (NUM_LANDMARKS, 3)) * [0.004, 0.004, 0.015]
        px = gt.markers_px + scale * rng.normal(0, 1.5, (NUM_LANDMARKS, 2))
        lm = np.full((NUM_LANDMARKS, 5), 0.99, dtype=np.float32)
        lm[:, 0], lm[:, 1] = px[:, 0] / w, px[:, 1] / h
        return PoseFrame(frame, (Person(0, lm, world.astype(np.float32), 1.0),))


def _variants(*names: str) -> list[harness.Variant]:
    """What ``arpose eval [--variant NAME ...]`` selects."""
    argv = ["eval", "--no-progress"] + [a for n in names for a in ("--variant", n)]
    return select_variants(build_parser().parse_args(argv))


def _by_variant(rows: list[dict]) -> dict[str, dict]:
    return {r["variant"]: r for r in rows}


def test_rows_are_the_same_whatever_the_order_or_selection(blank_clip):
    clip = blank_clip

    def run(variants):
        NoisyTruthEstimator.runs = []
        out = harness.run_motion(clip, variants, make_estimator=lambda spec: NoisyTruthEstimator(clip, spec))
        return out, list(NoisyTruthEstimator.runs)

    everything = _variants()
    assert [v.name for v in everything] == [
        "blazepose",
        "mediapipe-smoothed",
        "one-euro",
        "offline",
        "blazepose-litert",
        "pipeline",
    ]
    # The zero-lag smoother's rows: tests/smooth; the LiteRT backend's: tests/estimate.
    everything = [v for v in everything if v.name not in ("offline", "blazepose-litert")]
    forward, runs = run(everything)
    # raw (shared by one-euro), MediaPipe's smoothing, and the pipeline on the default backend
    # (LiteRT, a separate run from the reference graph's)
    assert len(runs) == 3
    reverse, _ = run(_variants("pipeline", "one-euro", "mediapipe-smoothed", "blazepose"))
    peer_only, runs = run(_variants("mediapipe-smoothed"))
    assert len(runs) == 2  # the raw baseline runs although its row is not selected
    ours_only, runs = run(_variants("one-euro", "pipeline"))
    assert len(runs) == 2  # the baseline shares ours' estimation run; the pipeline runs on LiteRT

    assert [r["variant"] for r in reverse.rows] == ["pipeline", "one-euro", "mediapipe-smoothed", "blazepose"]
    assert [r["variant"] for r in peer_only.rows] == ["mediapipe-smoothed"]
    full = _by_variant(forward.rows)
    np.testing.assert_equal(_by_variant(reverse.rows), full)  # exact, NaN equal to NaN
    np.testing.assert_equal(_by_variant(peer_only.rows), {"mediapipe-smoothed": full["mediapipe-smoothed"]})
    np.testing.assert_equal(_by_variant(ours_only.rows), {k: full[k] for k in ("one-euro", "pipeline")})

    # the comparisons with raw are real numbers in every selection (retarget columns too)
    peer, ours = full["mediapipe-smoothed"], full["one-euro"]
    assert full["blazepose"]["jitter_cut_%"] == 0.0 and full["blazepose"]["added_lag_fr"] == 0.0
    assert ours["jitter_cut_%"] == pytest.approx(100 * (1 - ours["jitter"] / full["blazepose"]["jitter"]))
    assert ours["jitter_cut_%"] > 30 and 0 < peer["jitter_cut_%"] < 90
    assert np.isfinite(full["pipeline"]["angle_err_deg"]) and np.isfinite(ours["angle_err_deg"])


@pytest.mark.slow
def test_eval_json_rows_are_the_same_whatever_the_order_or_selection(capsys):
    """BlazePose itself, through the command: 1 s of the wave at 30 fps, all four rows in two
    orders and a subset without the raw row; shared rows must match exactly."""

    def rows(*names: str) -> dict[str, dict]:
        argv = ["eval", "--motion", "wave", "--seconds", "1", "--fps", "30", "--json", "--no-progress"]
        assert main(argv + [a for n in names for a in ("--variant", n)]) == 0
        rows = json.loads(capsys.readouterr().out)
        return _by_variant([r for r in rows if " vs " not in r["variant"]])  # pairs exist when both are selected

    forward = rows("blazepose", "mediapipe-smoothed", "one-euro", "pipeline")
    reverse = rows("pipeline", "one-euro", "mediapipe-smoothed", "blazepose")
    subset = rows("one-euro", "mediapipe-smoothed")
    assert reverse == forward
    assert subset == {k: forward[k] for k in ("one-euro", "mediapipe-smoothed")}
    assert subset["mediapipe-smoothed"]["jitter_cut_%"] is not None  # compared with raw, not selected
    assert forward["one-euro"]["jitter_cut_%"] > 0
