"""Zero-lag smoothing of recorded motion (arpose.smooth.offline and SmoothedOutputs): noisy
landmarks with known truth, zero lag, visibility-aware noise, NaN frames, people streamed
with a bounded delay; file runs feed their outputs from it (the take holds the smoothed
landmarks, the raw ones and bodies retargeted from the smoothed ones), the options, and
``arpose export TAKE --smooth offline``."""

import numpy as np
import pytest

from arpose.app.cli import build_parser, main
from arpose.app.runner import spec_from_args, with_mode
from arpose.build import build_pipeline, offline_smoothing
from arpose.errors import ConfigError, InputError
from arpose.evaluate import metrics as M
from arpose.evaluate.smoothing import excess_cut, lag_behind
from arpose.landmarks import NUM_LANDMARKS
from arpose.record.take import read_take
from arpose.smooth import OfflineConfig, OfflineSmoother, SmoothedOutputs, smooth_sequence
from arpose.spec import CsvOutput, PipelineSpec, RunningMode, SmoothSpec, TakeOutput
from arpose.types import Frame, Person, PoseFrame

W, H, FPS = 640, 480, 30.0


def _truth_and_noisy(seconds=6.0, seed=0, fps=FPS):
    """Smooth true motion of 33 points (sines of 0.2-1.5 Hz, a few cm to 0.3 m) plus white
    noise like BlazePose's: 4 mm across the image, 15 mm in depth, 1.5 px in the image.
    Returns t (F,), true world (F, 33, 3) m, true px (F, 33, 2), raw world, raw image (F, 33, 5)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fps)) / fps
    base = rng.uniform(-0.5, 0.5, (NUM_LANDMARKS, 3))
    amp = rng.uniform(0.02, 0.3, (NUM_LANDMARKS, 3)) * np.array([1.0, 1.0, 0.3])
    freq = rng.uniform(0.2, 1.5, (NUM_LANDMARKS, 3))
    phase = rng.uniform(0, 2 * np.pi, (NUM_LANDMARKS, 3))
    gt_w = base + amp * np.sin(2 * np.pi * freq * t[:, None, None] + phase)
    gt_px = np.stack([320 + 300 * gt_w[..., 0], 240 + 300 * gt_w[..., 1]], axis=-1)
    raw_w = gt_w + rng.normal(0, 1, gt_w.shape) * np.array([0.004, 0.004, 0.015])
    raw_px = gt_px + rng.normal(0, 1.5, gt_px.shape)
    img = np.zeros((t.size, NUM_LANDMARKS, 5), np.float32)
    img[..., 0], img[..., 1] = raw_px[..., 0] / W, raw_px[..., 1] / H
    img[..., 3] = 0.99
    img[..., 4] = np.nan
    return t, gt_w, gt_px, raw_w.astype(np.float32), img


def test_noisy_landmarks_lose_their_excess_jitter_at_zero_lag_and_get_closer_to_the_truth():
    t, gt_w, gt_px, raw_w, img = _truth_and_noisy(seconds=4.0)
    s_img, s_w = smooth_sequence(img, raw_w, t)
    raw_px, s_px = img[..., :2] * (W, H), s_img[..., :2] * (W, H)
    assert excess_cut(M.jitter(s_w, t), M.jitter(raw_w, t), M.jitter(gt_w, t)) >= 75.0
    assert excess_cut(M.jitter(s_px, t), M.jitter(raw_px, t), M.jitter(gt_px, t)) >= 75.0
    assert abs(lag_behind(s_w, raw_w, t)) <= 0.05 and abs(lag_behind(s_px, raw_px, t)) <= 0.05
    assert abs(M.lag_frames(s_w, gt_w) - M.lag_frames(raw_w, gt_w)) <= 0.1
    assert M.mpjpe_procrustes(s_w, gt_w) < M.mpjpe_procrustes(raw_w, gt_w)
    assert M.median_px_error(s_px, gt_px) < M.median_px_error(raw_px, gt_px)
    assert s_img.dtype == np.float32 and s_w.dtype == np.float32
    assert np.isnan(s_img[..., 4]).all()  # presence NaN stays NaN


def test_uneven_timestamps_and_missing_frames():
    t, gt_w, _, raw_w, img = _truth_and_noisy(seed=1)
    rng = np.random.default_rng(2)
    t = t + rng.uniform(-0.3, 0.3, t.size) / FPS  # jittered capture times, still increasing
    img, raw_w = img.copy(), raw_w.copy()
    img[50:55], raw_w[50:55] = np.nan, np.nan  # the person not found for 5 frames
    raw_w[80:90, 15] = np.nan  # one landmark missing
    s_img, s_w = smooth_sequence(img, raw_w, t)
    assert np.isnan(s_w[50:55]).all() and np.isnan(s_img[50:55]).all()
    assert np.isnan(s_w[80:90, 15]).all() and np.isfinite(s_w[80:90, 14]).all()
    ok = np.isfinite(raw_w).all(axis=-1)
    err = np.linalg.norm(s_w - gt_w, axis=-1)[ok].mean()
    assert err < 0.6 * np.linalg.norm(raw_w - gt_w, axis=-1)[ok].mean()


def test_a_landmark_the_model_cannot_see_follows_its_neighbours_in_time_not_the_guess():
    t, _, _, raw_w, img = _truth_and_noisy(seed=3)
    img, raw_w = img.copy(), raw_w.copy()
    raw_w[100, 16] += 0.5  # a wild guess for the right wrist
    img[100, 16, 3] = 0.1  # that the model itself doubts
    jump = lambda w: np.linalg.norm(w[100, 16] - (w[99, 16] + w[101, 16]) / 2)  # noqa: E731
    gated = smooth_sequence(img, raw_w, t)[1]
    ungated = smooth_sequence(img, raw_w, t, OfflineConfig(visibility_threshold=0.0))[1]
    assert jump(gated) < 0.01 < jump(ungated)


def test_misuse_is_a_typed_error():
    t, _, _, raw_w, img = _truth_and_noisy(seconds=1.0)
    with pytest.raises(InputError):
        smooth_sequence(img[:, :20], raw_w, t)
    with pytest.raises(InputError):
        smooth_sequence(img, raw_w, t[::-1])
    with pytest.raises(ConfigError):
        OfflineConfig(world_cutoff=0.0)
    with pytest.raises(ConfigError):
        OfflineConfig(order=4)
    with pytest.raises(ConfigError):
        OfflineConfig(hidden_noise=0.5)


def _stream(seconds=5.0, seed=4):
    """Two people: id 0 all along, id 7 from 1 s to 3 s; frames (PoseFrame) and their arrays."""
    t, _, _, w0, i0 = _truth_and_noisy(seconds, seed)
    _, _, _, w7, i7 = _truth_and_noisy(seconds, seed + 1)
    frames = []
    image = np.zeros((H, W, 3), np.uint8)
    for k, tk in enumerate(t):
        people = [Person(0, i0[k], w0[k], 0.9)]
        if 1.0 <= tk < 3.0:
            people.append(Person(7, i7[k], w7[k], 0.9))
        frames.append(PoseFrame(Frame(image, float(tk), k), tuple(people)))
    return t, (i0, w0), (i7, w7), frames


@pytest.mark.slow
def test_the_stream_form_releases_every_frame_once_in_order_with_a_bounded_delay_and_matches_the_sequence():
    t, (i0, w0), (i7, w7), frames = _stream()
    sm = OfflineSmoother(OfflineConfig(lag=1.0))
    out, most_held = [], 0
    for pf in frames:
        out += sm.push(pf)
        most_held = max(most_held, sm.held)
    out += sm.flush()
    assert [pf.index for pf in out] == list(range(len(frames)))
    # At most 2 lag seconds of frames, or lag + reset gap for a person who has just left.
    assert most_held <= (2 * 1.0 + 0.5) * FPS + 2
    s_i0, s_w0 = smooth_sequence(i0, w0, t)
    seven = (t >= 1.0) & (t < 3.0)
    s_i7, s_w7 = smooth_sequence(i7[seven], w7[seven], t[seven])
    got0 = np.array([pf.people[0].world for pf in out])
    got7 = np.array([p.world for pf in out for p in pf.people if p.id == 7])
    np.testing.assert_allclose(got0, s_w0, atol=1e-3)  # within a millimetre
    np.testing.assert_allclose(got7, s_w7, atol=1e-3)
    np.testing.assert_allclose(np.array([pf.people[0].landmarks for pf in out]), s_i0, atol=1e-4, equal_nan=True)
    p = out[60].people[0]
    assert np.array_equal(p.raw_world, w0[60]) and p.body is None and p.mask is None
    assert out[60].frame.size == (W, H)


def test_the_stream_form_refuses_shared_ids_and_time_going_back():
    _, _, _, frames = _stream(seconds=1.0)
    sm = OfflineSmoother()
    sm.push(frames[1])
    with pytest.raises(InputError):
        sm.push(frames[0])
    p = frames[2].people[0]
    with pytest.raises(InputError):
        sm.push(frames[2].with_people([p, p]))


# --- in the pipeline ----------------------------------------------------------------------


def _spec(argv, mode=RunningMode.VIDEO):
    args = build_parser().parse_args(["run", "in.mp4", *argv])
    return with_mode(spec_from_args(args), mode)


def test_file_outputs_of_a_file_get_zero_lag_smoothing_by_default_streams_and_live_stay_causal(tmp_path):
    csv = ["--csv", str(tmp_path / "a.csv")]
    assert offline_smoothing(_spec(csv))
    assert offline_smoothing(_spec([*csv, "--smooth", "offline"]))
    assert not offline_smoothing(_spec([*csv, "--smooth", "causal"]))
    assert not offline_smoothing(_spec([*csv, "--no-smooth"]))
    assert not offline_smoothing(_spec(csv, RunningMode.LIVE))
    assert not offline_smoothing(_spec(["--vmc", "127.0.0.1:39539"]))
    assert not offline_smoothing(PipelineSpec(outputs=(TakeOutput(toggled=True),)))
    spec = _spec([*csv, "--smooth", "causal", "--smooth", "3,5"])
    assert (spec.smooth.mode, spec.smooth.min_cutoff, spec.smooth.beta) == ("causal", 3.0, 5.0)
    with pytest.raises(ConfigError, match="live streams stay causal"):
        _spec([*csv, "--smooth", "offline"], RunningMode.LIVE).validate()
    with pytest.raises(ConfigError):
        _spec(["--smooth", "offline", "--smooth", "causal"])
    with pytest.raises(ConfigError):
        PipelineSpec(smooth=SmoothSpec(mode="later")).validate()


class _Source:
    fps, size, name, kind, path, frame_count = FPS, (W, H), "synthetic", "video", None, None


class _Estimator:
    """Hands out the prepared frames' people for each frame, in order."""

    def __init__(self, frames):
        self.people = {pf.index: pf.people for pf in frames}

    def process(self, frame):
        return PoseFrame(frame, self.people[frame.index])


def _run(spec, frames):
    pipeline = build_pipeline(spec, _Source(), estimator=_Estimator(frames))
    for pf in frames:
        pipeline.emit(pipeline.analyze(pf.frame))
    pipeline.close()
    return pipeline


@pytest.mark.slow
def test_a_file_run_writes_its_take_from_the_zero_lag_smoother_and_retargets_the_result(tmp_path):
    t, (i0, w0), _, frames = _stream(seconds=4.0)
    take = tmp_path / "a.take"
    spec = PipelineSpec(outputs=(TakeOutput(str(take)), CsvOutput(str(tmp_path / "a.csv"))))
    pipeline = _run(spec, frames)
    (branch,) = [s for s in pipeline.sinks if isinstance(s, SmoothedOutputs)]
    assert len(branch.sinks) == 2
    assert pipeline.stage("retarget") is None  # nothing else uses the causal bodies
    rec = read_take(take)
    assert len(rec.frames) == len(frames)
    s_i0, s_w0 = smooth_sequence(i0, w0, t)
    got = np.array([f.people[0].world for f in rec.frames])
    np.testing.assert_allclose(got, s_w0, atol=1e-3)
    raw = np.array([f.people[0].raw_world for f in rec.frames])
    assert np.array_equal(raw, w0)
    assert all(p.body is not None for f in rec.frames for p in f.people)
    assert rec.header["settings"]["spec"]["smooth"]["mode"] == "auto"
    # With a stream as well, the causal path keeps its stages for it (the stream is never delayed).
    both = _spec(["--take", str(tmp_path / "b.take"), "--vmc", "127.0.0.1:9"])
    pipeline = _run(both, frames[:10])
    assert pipeline.stage("smooth") is not None and any(isinstance(s, SmoothedOutputs) for s in pipeline.sinks)


def test_causal_mode_records_the_live_filter(tmp_path):
    _, (_, w0), _, frames = _stream(seconds=2.0)
    take = tmp_path / "c.take"
    _run(_spec(["--take", str(take), "--smooth", "causal"]), frames)
    rec = read_take(take)
    got = np.array([f.people[0].world for f in rec.frames])
    ref = smooth_sequence(np.array([pf.people[0].landmarks for pf in frames]), w0, np.arange(len(frames)) / FPS)[1]
    assert np.abs(got - ref).max() > 1e-3  # not the zero-lag smoother's


@pytest.mark.slow
def test_export_smooth_offline_resmooths_a_live_take_and_retargets_it(tmp_path, capsys):
    t, (i0, w0), _, frames = _stream(seconds=3.0)
    live = tmp_path / "live.take"
    _run(_spec(["--take", str(live), "--smooth", "causal"]), frames)
    out_csv, out_bvh = tmp_path / "o.csv", tmp_path / "o.bvh"
    assert main(["export", str(live), "--smooth", "offline", "--csv", str(out_csv), "--bvh", str(out_bvh)]) == 0
    plain = tmp_path / "p.csv"
    assert main(["export", str(live), "--csv", str(plain)]) == 0
    import csv

    def world(path):
        rows = [r for r in csv.DictReader(open(path)) if r["person"] == "0"]
        return rows

    smoothed, recorded = world(out_csv), world(plain)
    assert len(smoothed) == len(recorded) > 0
    assert smoothed != recorded
    assert out_bvh.stat().st_size > 0
