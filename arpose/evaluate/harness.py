"""Scoring pipeline variants against the synthetic performer's ground truth.

Nothing here is a registry and importing this module changes nothing: callers say what to
run and how to score it.

* A :class:`Variant` is a row name plus a :class:`~arpose.spec.PipelineSpec` (and a one-line
  description). :func:`default_variants` returns the standard rows: ``blazepose`` (raw),
  ``mediapipe-smoothed`` (the peer), ``one-euro`` (our smoothing) and, given a spec,
  ``pipeline`` (what ``run`` would apply).
* A :class:`Metric` is a function ``(result, truth, *, baseline) -> {column: float}``;
  :func:`default_metrics` returns the standard ones. ``baseline`` is the raw estimate of the
  same motion (the ``blazepose`` row), which metrics that compare with raw (jitter cut, added
  lag) read; it is always computed, whether its row was asked for or not.
* :func:`run_motion` renders the performer, runs BlazePose **once per distinct estimator
  configuration** (:func:`estimation_key`, built with :func:`arpose.build.make_estimator`),
  runs each variant's fresh stages (:func:`arpose.build.make_stages`) over the shared
  estimates and scores every row against the truth and the baseline. A row depends only on
  its own variant, the motion and the baseline, so rows are the same whatever the order or
  selection of variants.

Frames: image landmarks are compared in pixels with the ground-truth markers; world landmarks
(MediaPipe world frame, hip-centred metres) with the markers in the same frame
(:attr:`~arpose.performer.GroundTruthSequence.markers_mp_world`), after per-frame Procrustes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, Sequence

import numpy as np

from .. import build
from ..errors import ConfigError
from ..landmarks import NUM_LANDMARKS, VISIBILITY
from ..spec import EstimatorSpec, PipelineSpec, RetargetSpec, RunningMode, SmoothSpec, TrackingSpec
from ..types import Camera, Frame, PoseFrame
from . import metrics as M

if TYPE_CHECKING:  # the performer loads trimesh and the renderer, which `arpose --help` must not
    from ..performer import GroundTruthSequence, PerformerSource

#: Row names of the default variants.
RAW_VARIANT_NAME = "blazepose"
MEDIAPIPE_VARIANT_NAME = "mediapipe-smoothed"
OURS_VARIANT_NAME = "one-euro"
OFFLINE_VARIANT_NAME = "offline"
LITERT_VARIANT_NAME = "blazepose-litert"
PIPELINE_VARIANT_NAME = "pipeline"
HANDS_VARIANT_NAME = "blazepose-hands"

#: The raw estimate: BlazePose Full on a video (tracking between frames) through MediaPipe's own
#: graph (the reference; the product's default backend, LiteRT, is the ``blazepose-litert``
#: row), no smoothing, no retargeting. Also the baseline every row is compared with.
RAW_SPEC = PipelineSpec(
    estimator=EstimatorSpec(mode=RunningMode.VIDEO, backend="mediapipe"),
    tracking=TrackingSpec(fix_swaps=False),
    smooth=SmoothSpec(enabled=False),
    retarget=RetargetSpec(enabled=False),
)


@dataclass(frozen=True)
class Variant:
    """One row of the evaluation. name: row label (unique in a run). spec: what the pipeline
    does; only its estimator (with :attr:`~arpose.spec.PipelineSpec.segmentation`), tracking,
    smoothing and retargeting matter here (outputs and the overlay are not run).
    description: one line for ``--help`` and docs."""

    name: str
    spec: PipelineSpec
    description: str = ""


def raw_variant() -> Variant:
    """``blazepose``: :data:`RAW_SPEC`, the baseline of every comparison with raw."""
    return Variant(RAW_VARIANT_NAME, RAW_SPEC, "BlazePose Full, tracking, no smoothing, no later stages")


def default_variants(pipeline_spec: PipelineSpec | None = None) -> list[Variant]:
    """The standard rows, in table order (a new list each call):

    * ``blazepose``: :func:`raw_variant`;
    * ``mediapipe-smoothed``: the raw spec with MediaPipe's own One Euro landmark filter
      (``estimator.mediapipe_smoothing``), the peer; a separate estimation run;
    * ``one-euro``: the raw spec with our smoothing at its defaults (:class:`SmoothSpec()`),
      no retargeting; shares the raw estimation run;
    * ``offline``: the raw spec with ``smooth.mode = "offline"``: the zero-lag smoother that
      feeds a file run's outputs (:func:`offline_stages`); shares the raw estimation run;
    * ``blazepose-litert``: the raw spec on the LiteRT backend (``estimator.backend``), scored
      beside ``blazepose`` (MediaPipe's graph); a separate estimation run;
    * ``blazepose-hands`` (only when ``pipeline_spec`` asks for hands, ``--hands``):
      :func:`hands_variant`;
    * ``pipeline`` (only when ``pipeline_spec`` is given): :func:`pipeline_variant`.
    """
    raw = raw_variant()
    variants = [
        raw,
        Variant(
            MEDIAPIPE_VARIANT_NAME,
            replace(RAW_SPEC, estimator=replace(RAW_SPEC.estimator, mediapipe_smoothing=True)),
            "BlazePose with MediaPipe's own One Euro landmark smoothing (the peer)",
        ),
        Variant(
            OURS_VARIANT_NAME,
            replace(RAW_SPEC, smooth=SmoothSpec()),
            "raw BlazePose through arpose's One Euro smoothing stage (default settings)",
        ),
        Variant(
            OFFLINE_VARIANT_NAME,
            replace(RAW_SPEC, smooth=SmoothSpec(mode="offline")),
            "raw BlazePose through arpose's zero-lag smoother (future frames; what file outputs get)",
        ),
        Variant(
            LITERT_VARIANT_NAME,
            replace(RAW_SPEC, estimator=replace(RAW_SPEC.estimator, backend="litert")),
            "raw BlazePose run by arpose itself on LiteRT (--backend litert), beside MediaPipe's graph",
        ),
    ]
    if pipeline_spec is not None and pipeline_spec.estimator.hands:
        variants.append(hands_variant())
    if pipeline_spec is not None:
        variants.append(pipeline_variant(pipeline_spec))
    return variants


def hands_variant() -> Variant:
    """``blazepose-hands``: the raw spec with hands (``estimator.hands``: the hand model on
    LiteRT, then the fingers retargeted by the ``hands_face`` stage), no smoothing; scored by
    :func:`arpose.evaluate.hands.hand_metrics`. A separate estimation run."""
    return Variant(
        HANDS_VARIANT_NAME,
        replace(RAW_SPEC, estimator=replace(RAW_SPEC.estimator, hands=True)),
        "raw BlazePose with the hands (--hands) and their fingers retargeted, no smoothing",
    )


def pipeline_variant(spec: PipelineSpec) -> Variant:
    """``pipeline``: ``spec``'s stages as ``run`` applies them to a video (its running mode set
    to VIDEO; its outputs dropped, the harness writes nothing)."""
    spec = replace(spec, estimator=replace(spec.estimator, mode=RunningMode.VIDEO), outputs=())
    return Variant(
        PIPELINE_VARIANT_NAME,
        spec,
        "every stage as run/demo apply them with the options given (smoothing, retargeting, ...)",
    )


def estimation_key(spec: PipelineSpec) -> EstimatorSpec:
    """What decides the estimator's output: ``spec.estimator`` with its effective
    segmentation and the backend that actually runs (``auto`` is
    :attr:`~arpose.spec.EstimatorSpec.resolved_backend`). Variants with equal keys share one
    estimation run (``pipeline`` at the defaults shares ``blazepose-litert``'s)."""
    e = spec.estimator
    return replace(e, segmentation=spec.segmentation, backend=e.resolved_backend)


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


class Metric(Protocol):
    """A metric: columns for one row, from the row's result, the motion's ground truth and the
    raw baseline of the same motion (:func:`raw_variant`'s result). Pure: the same arguments
    give the same columns. NaN where there is nothing to score."""

    def __call__(
        self, result: VariantResult, truth: GroundTruthSequence, *, baseline: VariantResult
    ) -> dict[str, float]: ...


def core_metrics(
    result: VariantResult, truth: GroundTruthSequence, *, baseline: VariantResult | None = None
) -> dict[str, float]:
    """Detection rate; 2D median pixel error and PCK@0.2 of torso size; 3D world MPJPE after
    Procrustes (mm); jitter of world landmarks (m/s^2), the estimate's and the truth's; lag of
    the world landmarks behind the truth (frames). ``baseline`` is not used."""
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


def default_metrics() -> list[Metric]:
    """The standard metric functions, in column order (a new list each call):
    :func:`core_metrics`, :func:`arpose.evaluate.smoothing.smoothing_metrics` (image jitter,
    jitter cut and added lag against the baseline),
    :func:`arpose.evaluate.retarget.retarget_metrics` (joint-angle, bone and root errors, the
    largest bone step), :func:`arpose.evaluate.swaps.swap_metrics` (left/right swaps, limb PCK
    against the oracle), :func:`arpose.evaluate.props.prop_metrics` (a crown's wobble and
    jitter against the true head and a crown pinned to the raw eyes and ears) and
    :func:`arpose.evaluate.hands.hand_metrics` (hand detection and finger flexion error, only
    for variants that estimate hands)."""
    # Imported here: both modules build on this one's types, and the retargeting metrics load
    # the retargeter, which ``arpose --help`` must not.
    from .hands import hand_metrics
    from .props import prop_metrics
    from .retarget import retarget_metrics
    from .smoothing import smoothing_metrics
    from .swaps import swap_metrics

    return [core_metrics, smoothing_metrics, retarget_metrics, swap_metrics, prop_metrics, hand_metrics]


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
    make_estimator: Callable[[PipelineSpec], Any] = build.make_estimator,
    make_stages: Callable[[PipelineSpec, Camera], list] = build.make_stages,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[VariantResult]:
    """Render ``source`` once per distinct :func:`estimation_key` of the variants, estimate with
    ``make_estimator(spec)``, then run each variant's new stages ``make_stages(spec, camera)``
    over the shared estimates. Returns one result per variant, in order.

    progress: optional ``(label, done, total)`` callback, once per estimated frame; ``done``
    and ``total`` count frames over all estimation runs (the app layer draws a bar).
    """
    variants = list(variants)
    groups: dict[EstimatorSpec, PipelineSpec] = {}
    for v in variants:
        groups.setdefault(estimation_key(v.spec), v.spec)
    total = source.frame_count * len(groups)
    done = 0
    estimates: dict[EstimatorSpec, tuple[list[PoseFrame], float]] = {}
    for key, spec in groups.items():
        est = make_estimator(spec)
        frames: list[PoseFrame] = []
        t0 = time.perf_counter()
        try:
            for frame in source:
                pf = est.process(frame)
                frames.append(PoseFrame(_light(frame), pf.people))
                done += 1
                if progress:
                    progress(f"{source.motion.name}: estimate", done, total)
        finally:
            close = getattr(est, "close", None)
            if close:
                close()
        estimates[key] = (frames, (time.perf_counter() - t0) / max(1, len(frames)))
    results = []
    for v in variants:
        frames, est_s = estimates[estimation_key(v.spec)]
        stages = make_stages(v.spec, source.camera)
        t0 = time.perf_counter()
        if offline_stages(v.spec):
            out = _run_offline(v.spec, source.camera, stages, frames)
        else:
            out = []
            for pf in frames:
                for st in stages:
                    pf = st.process(pf)
                out.append(pf)
        stage_s = (time.perf_counter() - t0) / max(1, len(frames))
        px, world, vis, ts = arrays_from_pose_frames(out, source.size)
        results.append(VariantResult(v, source.motion.name, out, px, world, vis, ts, est_s, stage_s))
    return results


def offline_stages(spec: PipelineSpec) -> bool:
    """True when a variant's smoothing is the zero-lag smoother (``smooth.mode`` is
    ``"offline"``): its frames then go through :func:`arpose.build.make_offline_outputs`, as a
    file run's outputs do, instead of the causal smoothing and retargeting stages."""
    return spec.smoothing and spec.smooth.mode == "offline"


class _Collect:
    """A data sink keeping every frame it is given."""

    def __init__(self) -> None:
        self.frames: list[PoseFrame] = []

    def write(self, pose_frame: PoseFrame, image: Any = None) -> None:
        self.frames.append(pose_frame)

    def close(self) -> None:
        pass


def _run_offline(spec: PipelineSpec, camera: Camera, stages: list, frames: list[PoseFrame]) -> list[PoseFrame]:
    """``frames`` through the stages before smoothing, then the zero-lag branch (smoother and
    retargeting) into a collector: the frames a file run's outputs would get, in order."""
    before = [s for s in stages if s.name in ("track", "swap")]
    collect = _Collect()
    branch = build.make_offline_outputs(spec, camera, [collect])
    for pf in frames:
        for st in before:
            pf = st.process(pf)
        branch.write(pf, None)
    branch.close()
    return [PoseFrame(pf.frame, pf.people) for pf in collect.frames]


def score(
    results: Iterable[VariantResult],
    truth: GroundTruthSequence,
    baseline: VariantResult,
    metrics: Sequence[Metric] | None = None,
) -> list[dict]:
    """One row per result: ``{"motion", "variant", <metric columns>...}`` (NaN where a
    metric has nothing to score, e.g. no detection). Each metric gets the result, ``truth``
    and ``baseline`` (the raw result of the same motion); ``metrics`` default to
    :func:`default_metrics`."""
    metrics = default_metrics() if metrics is None else list(metrics)
    rows = []
    for r in results:
        row: dict = {"motion": r.motion, "variant": r.variant.name}
        for fn in metrics:
            row.update({k: float(v) for k, v in fn(r, truth, baseline=baseline).items()})
        rows.append(row)
    return rows


@dataclass
class MotionRun:
    """Everything scored on one motion: its ground truth, each selected variant's result, the
    raw baseline's result (also when its row was not selected) and the rows. ``comparisons``:
    rows pairing two selected variants (``variant`` is ``"A vs B"``), e.g. each smoother's
    per-frame error against MediaPipe's smoothing with a block-bootstrap interval
    (:func:`arpose.evaluate.smoothing.peer_comparisons`); they exist only when both are
    selected, so the variant rows stay the same whatever the selection. ``gesture_rows``: for
    the selected variants that estimate hands, on a motion showing gestures, the hand columns
    per gesture (:func:`arpose.evaluate.hands.gesture_rows`)."""

    motion: str
    truth: GroundTruthSequence
    results: list[VariantResult]
    rows: list[dict]
    baseline: VariantResult
    comparisons: list[dict] = field(default_factory=list)
    gesture_rows: list[dict] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        """The run as plain arrays, to score other settings offline (e.g. smoothing parameters
        through :func:`arpose.evaluate.smoothing.smooth_arrays`) without rendering or
        estimating again.

        ``t`` ``(F,)`` seconds; ``size`` ``(2,)`` ``[width, height]`` pixels;
        ``truth.world`` ``(F, 33, 3)`` true markers in MediaPipe's world frame (metres,
        hip-centred, x image-right, y down, z away from the camera); ``truth.px`` ``(F, 33, 2)``
        their pixels. Per variant ``NAME`` (the selected ones and the baseline ``blazepose``):
        ``NAME.image`` ``(F, 33, 5)`` the first person's normalised image landmarks
        ``[x, y, z, visibility, presence]`` and ``NAME.world`` ``(F, 33, 3)`` world landmarks
        (metres), NaN where nobody was found.
        """
        out: dict[str, np.ndarray] = {
            "t": np.asarray(self.truth.timestamps, dtype=np.float64),
            "truth.world": np.asarray(self.truth.markers_mp_world, dtype=np.float64),
            "truth.px": np.asarray(self.truth.markers_px, dtype=np.float64),
        }
        results = list(self.results)
        if all(r.variant.name != self.baseline.variant.name for r in results):
            results.append(self.baseline)
        frames = next((r.pose_frames for r in results if r.pose_frames), None)
        if frames:
            out["size"] = np.array(frames[0].frame.size, dtype=np.int64)
        for r in results:
            image = np.full((len(r.pose_frames), NUM_LANDMARKS, 5), np.nan, dtype=np.float32)
            for i, p in enumerate(r.people()):
                if p is not None:
                    image[i] = p.landmarks
            out[f"{r.variant.name}.image"] = image
            out[f"{r.variant.name}.world"] = np.asarray(r.world, dtype=np.float32)
        return out


def run_motion(
    source: PerformerSource,
    variants: Iterable[Variant],
    metrics: Sequence[Metric] | None = None,
    baseline: Variant | None = None,
    make_estimator: Callable[[PipelineSpec], Any] = build.make_estimator,
    make_stages: Callable[[PipelineSpec, Camera], list] = build.make_stages,
    progress: Callable[[str, int, int], None] | None = None,
) -> MotionRun:
    """Run and score ``variants`` on one performer ``source`` (not closed here).

    baseline: the variant every metric compares with (default :func:`raw_variant`); it is run
    too when not among ``variants`` (sharing the estimation run of any variant with its
    estimator settings) but gets a row only when selected. metrics: default
    :func:`default_metrics`. make_estimator, make_stages, progress: as for
    :func:`run_variants`. Raises :class:`ConfigError` if two variants share a name.
    """
    variants = list(variants)
    baseline = raw_variant() if baseline is None else baseline
    names = [v.name for v in variants]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"variant names must be unique, got {', '.join(dupes)} more than once")
    clash = next((v for v in variants if v.name == baseline.name and v != baseline), None)
    if clash is not None:
        raise ConfigError(f"variant {clash.name!r} has the baseline's name but another spec; rename it")
    todo = variants if baseline in variants else [*variants, baseline]
    results = run_variants(source, todo, make_estimator, make_stages, progress)
    base = results[todo.index(baseline)]
    results = results[: len(variants)]
    rows = score(results, source.truth, base, metrics)
    from .hands import gesture_rows
    from .smoothing import peer_comparisons  # builds on this module's types

    pairs = peer_comparisons(results, source.truth)
    gestures = gesture_rows(results, source.truth)
    return MotionRun(source.motion.name, source.truth, results, rows, base, pairs, gestures)


def evaluate(
    motions: Iterable[str],
    seconds: float | None = 4.0,
    fps: float = 30.0,
    variants: Iterable[Variant] | None = None,
    metrics: Sequence[Metric] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    **performer,
) -> list[MotionRun]:
    """Score every variant on every motion (built-in name or BVH path), ``seconds`` long
    (None: a BVH take's full length) at ``fps``, with :func:`run_motion`.

    ``performer`` keyword arguments go to :class:`PerformerSource` (camera, mannequin,
    placement, background, noise, seed). Variants default to :func:`default_variants`,
    metrics to :func:`default_metrics`.
    """
    from ..performer import PerformerSource

    variants = default_variants() if variants is None else list(variants)
    runs: list[MotionRun] = []
    for motion in motions:
        source = PerformerSource(motion, seconds=seconds, fps=fps, **performer)
        try:
            runs.append(run_motion(source, variants, metrics, progress=progress))
        finally:
            source.close()
    return runs
