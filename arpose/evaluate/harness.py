"""Scoring pipeline variants against the synthetic performer's ground truth.

* A :class:`Variant` is a name, an estimator configuration and a factory of the stages run
  after estimation (smoothing, retargeting ...). Register variants in :data:`VARIANTS`
  (e.g. ``arpose/evaluate/smoothing.py`` adds raw / MediaPipe-smoothed / ours).
* A metric function takes ``(VariantResult, GroundTruthSequence)`` and returns
  ``{column name: float}``; register it in :data:`METRICS` (e.g. joint-angle errors in
  ``arpose/evaluate/retarget.py``). :func:`core_metrics` is always first.
* :func:`evaluate` renders the performer, runs BlazePose **once per distinct estimator
  configuration** over those frames and reuses the estimates for every variant sharing it;
  each variant's stages are fresh objects (their state starts empty).

Frames: image landmarks are compared in pixels with the ground-truth markers; world landmarks
(MediaPipe world frame, hip-centred metres) with the markers in the same frame
(:attr:`~arpose.performer.GroundTruthSequence.markers_mp_world`), after per-frame Procrustes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from ..estimate import BlazePoseEstimator, EstimatorConfig
from ..landmarks import NUM_LANDMARKS, VISIBILITY
from ..performer import GroundTruthSequence, PerformerSource
from ..types import Camera, Frame, PoseFrame
from . import metrics as M


@dataclass(frozen=True)
class EvalContext:
    """What a variant's stage factory gets: the camera (intrinsics of the rendered frames),
    the frame rate, the motion's name and the performer source (for its size and kind)."""

    camera: Camera
    fps: float
    motion: str
    source: PerformerSource


@dataclass(frozen=True)
class Variant:
    """name: row label. estimator: BlazePose settings (variants with equal settings share one
    estimation run). stages: ``(EvalContext) -> list`` of new stage objects, applied in order
    to each estimated :class:`PoseFrame`. description: one line for ``--help`` and docs."""

    name: str
    estimator: EstimatorConfig = EstimatorConfig()
    stages: Callable[[EvalContext], list] = field(default=lambda ctx: [])
    description: str = ""


@dataclass
class VariantResult:
    """One variant's outputs over ``F`` frames.

    pose_frames: the variant's output per frame (images replaced by zero-cost placeholders).
    image_px: ``(F, 33, 2)`` pixels of the first person's image landmarks (NaN when nobody).
    world: ``(F, 33, 3)`` metres, MediaPipe world frame (NaN when nobody).
    visibility: ``(F, 33)``. timestamps: ``(F,)`` seconds. estimate_seconds: wall time of the
    shared estimation run per frame (seconds), stage_seconds: of this variant's stages.
    """

    variant: Variant
    motion: str
    pose_frames: list[PoseFrame]
    image_px: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    timestamps: np.ndarray
    estimate_seconds: float = float("nan")
    stage_seconds: float = float("nan")

    def people(self, person_id: int | None = None) -> list:
        """Per frame, the person with ``person_id`` (default: the first) or ``None``."""
        out = []
        for pf in self.pose_frames:
            ps = [p for p in pf.people if person_id is None or p.id == person_id]
            out.append(ps[0] if ps else None)
        return out


MetricFn = Callable[[VariantResult, GroundTruthSequence], dict[str, float]]


def _raw_variant() -> Variant:
    return Variant(
        "blazepose",
        EstimatorConfig(tracking=True),
        lambda ctx: [],
        "BlazePose Full, tracking, no smoothing, no later stages",
    )


#: Variants scored by ``arpose eval`` in order (other modules append here).
VARIANTS: list[Variant] = [_raw_variant()]


def core_metrics(result: VariantResult, truth: GroundTruthSequence) -> dict[str, float]:
    """Detection rate; 2D median pixel error and PCK@0.2 of torso size; 3D world MPJPE after
    Procrustes (mm); jitter of world landmarks (m/s^2), the estimate's and the truth's; lag of
    the world landmarks behind the truth (frames)."""
    gt_px, gt_w = truth.markers_px, truth.markers_mp_world
    return {
        "detected": M.detection_rate(result.image_px),
        "median_px": M.median_px_error(result.image_px, gt_px),
        "pck@0.2": M.pck(result.image_px, gt_px, truth.torso_px, 0.2),
        "mpjpe_pa_mm": M.mpjpe_procrustes(result.world, gt_w),
        "jitter": M.jitter(result.world, truth.timestamps),
        "jitter_gt": M.jitter(gt_w, truth.timestamps),
        "lag_frames": M.lag_frames(result.world, gt_w),
    }


#: Metric functions, each adding columns (other modules append here).
METRICS: list[MetricFn] = [core_metrics]


def register_variant(variant: Variant) -> Variant:
    """Add ``variant`` to :data:`VARIANTS` (replacing one with the same name)."""
    VARIANTS[:] = [v for v in VARIANTS if v.name != variant.name] + [variant]
    return variant


def register_metric(fn: MetricFn) -> MetricFn:
    """Add a metric function to :data:`METRICS` (once); usable as a decorator."""
    if fn not in METRICS:
        METRICS.append(fn)
    return fn


def _light(frame: Frame) -> Frame:
    """The frame with its image replaced by a zero-stride black view of the same shape (keeps
    ``size`` and timestamps for stages; no memory held)."""
    h, w = frame.image.shape[:2]
    return Frame(
        image=np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (h, w, 3)), timestamp=frame.timestamp, index=frame.index
    )


def arrays_from_pose_frames(pose_frames: list[PoseFrame], size: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """``(image_px (F, 33, 2), world (F, 33, 3), visibility (F, 33), timestamps (F,))`` of the
    first person in each frame, NaN where nobody was found. ``size`` is ``(width, height)``."""
    n = len(pose_frames)
    px = np.full((n, NUM_LANDMARKS, 2), np.nan)
    world = np.full((n, NUM_LANDMARKS, 3), np.nan)
    vis = np.full((n, NUM_LANDMARKS), np.nan)
    ts = np.array([pf.timestamp for pf in pose_frames], dtype=np.float64)
    for i, pf in enumerate(pose_frames):
        if pf.people:
            p = pf.people[0]
            px[i] = p.pixels(*size)
            world[i] = p.world
            vis[i] = p.landmarks[:, VISIBILITY]
    return px, world, vis, ts


def run_variants(
    source: PerformerSource,
    variants: Iterable[Variant],
    make_estimator: Callable[[EstimatorConfig], object] = BlazePoseEstimator,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[VariantResult]:
    """Render ``source`` once per distinct estimator configuration, estimate, then run each
    variant's stages over the shared estimates. Returns one result per variant, in order.

    progress: optional ``(label, done, total)`` callback (the app layer draws a bar).
    """
    import time

    variants = list(variants)
    ctx = EvalContext(camera=source.camera, fps=source.fps, motion=source.motion.name, source=source)
    estimates: dict[EstimatorConfig, tuple[list[PoseFrame], float]] = {}
    for cfg in dict.fromkeys(v.estimator for v in variants):
        est = make_estimator(cfg)
        frames: list[PoseFrame] = []
        t0 = time.perf_counter()
        try:
            for frame in source:
                pf = est.process(frame)
                frames.append(PoseFrame(_light(frame), pf.people))
                if progress:
                    progress(f"{source.motion.name}: estimate", len(frames), source.frame_count)
        finally:
            close = getattr(est, "close", None)
            if close:
                close()
        estimates[cfg] = (frames, (time.perf_counter() - t0) / max(1, len(frames)))
    results = []
    for v in variants:
        frames, est_s = estimates[v.estimator]
        stages = v.stages(ctx)
        out = []
        t0 = time.perf_counter()
        for pf in frames:
            for st in stages:
                pf = st.process(pf)
            out.append(pf)
        stage_s = (time.perf_counter() - t0) / max(1, len(frames))
        px, world, vis, ts = arrays_from_pose_frames(out, source.size)
        results.append(VariantResult(v, source.motion.name, out, px, world, vis, ts, est_s, stage_s))
    return results


def score(
    results: Iterable[VariantResult], truth: GroundTruthSequence, metrics: Iterable[MetricFn] | None = None
) -> list[dict]:
    """One row per result: ``{"motion", "variant", <metric columns>...}`` (NaN where a
    metric has nothing to score, e.g. no detection)."""
    rows = []
    for r in results:
        row: dict = {"motion": r.motion, "variant": r.variant.name}
        for fn in METRICS if metrics is None else metrics:
            row.update({k: float(v) for k, v in fn(r, truth).items()})
        rows.append(row)
    return rows


@dataclass
class MotionRun:
    """Everything scored on one motion: its ground truth, each variant's result, the rows."""

    motion: str
    truth: GroundTruthSequence
    results: list[VariantResult]
    rows: list[dict]

    def arrays(self) -> dict[str, np.ndarray]:
        """The run as plain arrays, to score other settings offline (e.g. smoothing parameters
        through :func:`arpose.evaluate.smoothing.smooth_arrays`) without rendering or
        estimating again.

        ``t`` ``(F,)`` seconds; ``size`` ``(2,)`` ``[width, height]`` pixels;
        ``truth.world`` ``(F, 33, 3)`` true markers in MediaPipe's world frame (metres,
        hip-centred, x image-right, y down, z away from the camera); ``truth.px`` ``(F, 33, 2)``
        their pixels. Per variant ``NAME``: ``NAME.image`` ``(F, 33, 5)`` the first person's
        normalised image landmarks ``[x, y, z, visibility, presence]`` and ``NAME.world``
        ``(F, 33, 3)`` world landmarks (metres), NaN where nobody was found.
        """
        out: dict[str, np.ndarray] = {
            "t": np.asarray(self.truth.timestamps, dtype=np.float64),
            "truth.world": np.asarray(self.truth.markers_mp_world, dtype=np.float64),
            "truth.px": np.asarray(self.truth.markers_px, dtype=np.float64),
        }
        frames = next((r.pose_frames for r in self.results if r.pose_frames), None)
        if frames:
            out["size"] = np.array(frames[0].frame.size, dtype=np.int64)
        for r in self.results:
            image = np.full((len(r.pose_frames), NUM_LANDMARKS, 5), np.nan, dtype=np.float32)
            for i, p in enumerate(r.people()):
                if p is not None:
                    image[i] = p.landmarks
            out[f"{r.variant.name}.image"] = image
            out[f"{r.variant.name}.world"] = np.asarray(r.world, dtype=np.float32)
        return out


def evaluate(
    motions: Iterable[str],
    seconds: float | None = 4.0,
    fps: float = 30.0,
    variants: Iterable[Variant] | None = None,
    metrics: Iterable[MetricFn] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    **performer,
) -> list[MotionRun]:
    """Score every variant on every motion (built-in name or BVH path), ``seconds`` long
    (None: a BVH take's full length) at ``fps``.

    ``performer`` keyword arguments go to :class:`PerformerSource` (camera, mannequin,
    placement, background, noise, seed). Variants default to :data:`VARIANTS`, metrics to
    :data:`METRICS`, both read at call time.
    """
    variants = list(VARIANTS if variants is None else variants)
    runs: list[MotionRun] = []
    for motion in motions:
        source = PerformerSource(motion, seconds=seconds, fps=fps, **performer)
        try:
            res = run_variants(source, variants, progress=progress)
        finally:
            source.close()
        runs.append(MotionRun(source.motion.name, source.truth, res, score(res, source.truth, metrics)))
    return runs
