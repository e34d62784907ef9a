"""Smoothing evidence: raw vs MediaPipe-smoothed vs ours, on the very same frames, against
ground truth.

For ``arpose eval`` (:mod:`arpose.evaluate.harness`, whose :func:`~arpose.evaluate.harness.default_variants`
names the rows ``blazepose`` (raw), ``mediapipe-smoothed`` (the peer) and ``one-euro`` (ours)):

* metric :func:`smoothing_metrics`: 2D jitter, and jitter cut / added lag relative to the raw
  baseline it is given;
* :func:`check_targets` / :func:`format_targets`: the per-motion verdict after the table;
* :func:`write_wrist_plots`: one wrist's trajectory per motion for every row and the truth.

Pure functions over arrays (no estimator, no rendering), for ``arpose eval`` and tests alike:

* :func:`smooth_arrays` runs our :class:`~arpose.smooth.SmoothStage` logic over a whole
  recorded sequence of one person.
* :func:`score_sequence` scores one variant: jitter, lag and error against ground truth.
* :func:`compare` scores several variants and adds jitter reduction and added lag relative to
  the raw variant.
* :func:`plot_wrist` draws one wrist's trajectory for every variant and the truth (PNG).

Shapes: ``F`` frames; image landmarks ``(F, 33, 5)`` normalised ``[x, y, z, vis, presence]``;
pixels ``(F, 33, 2)`` (x right, y down); world ``(F, 33, 3)`` metres in MediaPipe's world frame
(hip-centred, x image-right, y down, z away from the camera); ``t`` ``(F,)`` seconds. Frames
where the person was not found are all NaN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..landmarks import NUM_LANDMARKS, PoseLandmark
from ..smooth import PersonSmoothState, SmoothConfig, smooth_person
from ..types import Person
from . import metrics
from .harness import MEDIAPIPE_VARIANT_NAME, OURS_VARIANT_NAME, RAW_VARIANT_NAME, VariantResult

if TYPE_CHECKING:
    from ..performer import GroundTruthSequence

__all__ = [
    "SmoothingScores",
    "smooth_arrays",
    "score_sequence",
    "compare",
    "plot_wrist",
    "format_table",
    "smoothing_metrics",
    "write_wrist_plots",
    "TargetCheck",
    "check_targets",
    "format_targets",
    "TARGET_JITTER_CUT",
    "TARGET_ADDED_LAG",
]


def smooth_arrays(
    image: np.ndarray,
    world: np.ndarray,
    t: np.ndarray,
    image_size: tuple[int, int],
    config: SmoothConfig = SmoothConfig(),
) -> tuple[np.ndarray, np.ndarray]:
    """Our smoothing over one person's recorded sequence.

    image: ``(F, 33, 5)``; world: ``(F, 33, 3)``; t: ``(F,)`` seconds, strictly increasing;
    image_size: ``(width, height)`` pixels. Frames that are entirely NaN count as "person not
    found" (the filter sees a gap, and resets after ``config.reset_gap``).
    Returns ``(image_smoothed (F, 33, 5), world_smoothed (F, 33, 3))`` float32, NaN where the
    input frame was missing. Identical to running :class:`~arpose.smooth.SmoothStage`.
    """
    image = np.asarray(image, dtype=np.float32)
    world = np.asarray(world, dtype=np.float32)
    t = np.asarray(t, dtype=np.float64)
    if (
        image.shape[1:] != (NUM_LANDMARKS, 5)
        or world.shape != image.shape[:1] + (NUM_LANDMARKS, 3)
        or t.shape != image.shape[:1]
    ):
        raise ValueError(
            f"expected image (F, 33, 5), world (F, 33, 3), t (F,); got {image.shape}, {world.shape}, {t.shape}"
        )
    out_i = np.full_like(image, np.nan)
    out_w = np.full_like(world, np.nan)
    state: PersonSmoothState | None = None
    for k in range(t.size):
        if not (np.isfinite(image[k]).any() or np.isfinite(world[k]).any()):
            continue
        if state is not None and t[k] - state.t > config.reset_gap:
            state = None
        p, state = smooth_person(state, Person(0, image[k], world[k], 1.0), float(t[k]), image_size, config)
        out_i[k], out_w[k] = p.landmarks, p.world
    return out_i, out_w


@dataclass(frozen=True)
class SmoothingScores:
    """One variant's scores against ground truth (NaN when not computable).

    jitter_world: mean |acceleration| of the world landmarks, m/s^2
        (:func:`arpose.evaluate.metrics.jitter`); jitter_px: the same for pixels, px/s^2.
    lag_frames: delay behind the truth (world landmarks, velocity cross-correlation), frames.
    mpjpe_mm: world landmarks vs true markers after per-frame Procrustes, mm.
    median_px: median 2D error, px. detection_rate: fraction of frames with a person.
    jitter_reduction: ``1 - jitter_world / raw jitter_world`` (0 for raw itself).
    added_lag_frames: ``lag_frames - raw lag_frames``.
    """

    name: str
    jitter_world: float
    jitter_px: float
    lag_frames: float
    mpjpe_mm: float
    median_px: float
    detection_rate: float
    jitter_reduction: float = float("nan")
    added_lag_frames: float = float("nan")

    def as_dict(self) -> dict:
        return asdict(self)


def score_sequence(
    name: str, world: np.ndarray, px: np.ndarray, t: np.ndarray, gt_world: np.ndarray, gt_px: np.ndarray
) -> SmoothingScores:
    """Score one variant.

    world: ``(F, 33, 3)`` estimated world landmarks (metres, MediaPipe world frame);
    px: ``(F, 33, 2)`` estimated pixels; gt_world: ``(F, 33, 3)`` true markers in the same
    hip-centred MediaPipe world frame; gt_px: ``(F, 33, 2)`` true pixels; t: ``(F,)`` seconds.
    """
    return SmoothingScores(
        name=name,
        jitter_world=metrics.jitter(world, t),
        jitter_px=metrics.jitter(px, t),
        lag_frames=metrics.lag_frames(world, gt_world),
        mpjpe_mm=metrics.mpjpe_procrustes(world, gt_world),
        median_px=metrics.median_px_error(px, gt_px),
        detection_rate=metrics.detection_rate(world),
    )


def compare(
    variants: dict[str, tuple[np.ndarray, np.ndarray]],
    t: np.ndarray,
    gt_world: np.ndarray,
    gt_px: np.ndarray,
    raw: str = "raw",
) -> list[SmoothingScores]:
    """Score every variant ``name -> (world (F, 33, 3), px (F, 33, 2))`` and fill in jitter
    reduction and added lag relative to the variant named ``raw``. A ``ground truth`` row
    (jitter of the true motion itself) comes last for reference."""
    rows = [score_sequence(n, w, p, t, gt_world, gt_px) for n, (w, p) in variants.items()]
    base = next((r for r in rows if r.name == raw), None)
    out = []
    for r in rows:
        if base is not None:
            red = 1.0 - r.jitter_world / base.jitter_world if base.jitter_world > 0 else float("nan")
            r = SmoothingScores(
                **{**r.as_dict(), "jitter_reduction": red, "added_lag_frames": r.lag_frames - base.lag_frames}
            )
        out.append(r)
    out.append(
        SmoothingScores("ground truth", metrics.jitter(gt_world, t), metrics.jitter(gt_px, t), 0.0, 0.0, 0.0, 1.0)
    )
    return out


def format_table(rows: list[SmoothingScores]) -> str:
    """A plain-text table of :func:`compare`'s rows."""
    head = (
        f"{'variant':<16}{'jitter m/s2':>12}{'vs raw':>8}{'jitter px/s2':>14}{'lag fr':>8}"
        f"{'+lag fr':>8}{'MPJPE mm':>10}{'med px':>8}"
    )
    lines = [head, "-" * len(head)]

    def f(v, spec):
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)

    for r in rows:
        red = f(-100.0 * r.jitter_reduction, "+.0f") + ("%" if math.isfinite(r.jitter_reduction) else "")
        lines.append(
            f"{r.name:<16}{f(r.jitter_world, '.2f'):>12}{red:>8}{f(r.jitter_px, '.0f'):>14}"
            f"{f(r.lag_frames, '.2f'):>8}{f(r.added_lag_frames, '+.2f'):>8}{f(r.mpjpe_mm, '.1f'):>10}"
            f"{f(r.median_px, '.2f'):>8}"
        )
    return "\n".join(lines)


def plot_wrist(
    path: str | Path,
    t: np.ndarray,
    series: dict[str, np.ndarray],
    landmark: PoseLandmark = PoseLandmark.RIGHT_WRIST,
    title: str = "",
    world: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write a PNG of one landmark's trajectory against time, one line per series.

    series: name -> ``(F, 33, 2)`` pixels (include the ground truth as ``"ground truth"``):
    panels x and y in the image. world: optional name -> ``(F, 33, 3)`` metres, hip-centred
    MediaPipe world frame: a third panel with the landmark's depth (z, away from the camera),
    where BlazePose jitters most. Returns the path. Uses matplotlib's Agg backend.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    rows = 3 if world else 2
    fig, axes = plt.subplots(rows, 1, figsize=(10, 2.6 * rows + 0.6), sharex=True)
    styles = {
        "ground truth": dict(color="black", lw=2.0, ls="--"),
        RAW_VARIANT_NAME: dict(color="0.55", lw=1.0),
        "raw": dict(color="0.55", lw=1.0),
    }
    i = int(landmark)
    for name, px in series.items():
        p = np.asarray(px, dtype=np.float64)[:, i]
        kw = styles.get(name, dict(lw=1.2))
        axes[0].plot(t, p[:, 0], label=name, **kw)
        axes[1].plot(t, p[:, 1], label=name, **kw)
    axes[0].set_ylabel("image x (px, right)")
    axes[1].set_ylabel("image y (px, down)")
    axes[1].invert_yaxis()
    if world:
        for name, w in world.items():
            axes[2].plot(t, np.asarray(w, dtype=np.float64)[:, i, 2], label=name, **styles.get(name, dict(lw=1.2)))
        axes[2].set_ylabel("world z (m, away from camera)")
    axes[-1].set_xlabel("time (s)")
    axes[0].legend(loc="best", fontsize=8)
    axes[0].set_title(title or f"{landmark.label} trajectory")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --- the issue's targets, per motion ---------------------------------------------------------

# The targets of our smoothing at 30 fps: at least TARGET_JITTER_CUT percent less world jitter
# than raw, at most TARGET_ADDED_LAG frames of added lag, and a lower world MPJPE-PA than
# MediaPipe's own smoothing on the same frames.
TARGET_JITTER_CUT = 60.0
TARGET_ADDED_LAG = 1.0


@dataclass(frozen=True)
class TargetCheck:
    """One motion's smoothing scores against the targets.

    jitter_cut: percent less world jitter than raw; added_lag: frames; error, mediapipe_error:
    world MPJPE-PA in mm of ours and of MediaPipe's smoothing. The ``*_ok`` flags say whether
    each target is met (False where a score is NaN).
    """

    motion: str
    jitter_cut: float
    added_lag: float
    error: float
    mediapipe_error: float

    @property
    def jitter_ok(self) -> bool:
        return self.jitter_cut >= TARGET_JITTER_CUT

    @property
    def lag_ok(self) -> bool:
        return self.added_lag <= TARGET_ADDED_LAG

    @property
    def error_ok(self) -> bool:
        return self.error < self.mediapipe_error

    @property
    def all_ok(self) -> bool:
        return self.jitter_ok and self.lag_ok and self.error_ok


def check_targets(
    rows: list[dict], ours: str = OURS_VARIANT_NAME, peer: str = MEDIAPIPE_VARIANT_NAME
) -> list[TargetCheck]:
    """Per motion, our smoothing's scores against the targets, from ``arpose eval`` rows
    (:func:`arpose.evaluate.harness.score`: ``motion``, ``variant``, ``jitter_cut_%``,
    ``added_lag_fr``, ``mpjpe_pa_mm``). Motions without both the ``ours`` and the ``peer`` row
    are left out. Order follows the rows."""
    by_motion: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_motion.setdefault(r["motion"], {})[r["variant"]] = r

    def num(v) -> float:
        return float("nan") if v is None else float(v)

    out = []
    for motion, variants in by_motion.items():
        if ours in variants and peer in variants:
            o, m = variants[ours], variants[peer]
            out.append(
                TargetCheck(
                    motion,
                    num(o.get("jitter_cut_%")),
                    num(o.get("added_lag_fr")),
                    num(o.get("mpjpe_pa_mm")),
                    num(m.get("mpjpe_pa_mm")),
                )
            )
    return out


def format_targets(checks: list[TargetCheck]) -> str:
    """A plain-text verdict: one line per motion, then how many motions meet each target and
    the mean error of ours and MediaPipe's. Empty string when there is nothing to check."""
    if not checks:
        return ""
    mark = {True: "yes", False: "NO"}
    lines = [
        f"smoothing targets (ours vs raw and vs MediaPipe's smoothing): jitter cut >= "
        f"{TARGET_JITTER_CUT:.0f}%, added lag <= {TARGET_ADDED_LAG:g} frame, error below MediaPipe's"
    ]
    width = max(len(c.motion) for c in checks)
    for c in checks:
        lines.append(
            f"  {c.motion:<{width}}  jitter -{c.jitter_cut:.0f}% {mark[c.jitter_ok]:>3}  "
            f"lag {c.added_lag:+.2f} fr {mark[c.lag_ok]:>3}  "
            f"error {c.error:.1f} vs {c.mediapipe_error:.1f} mm {mark[c.error_ok]:>3}"
        )
    n = len(checks)
    err = np.array([c.error for c in checks])
    mp = np.array([c.mediapipe_error for c in checks])
    lines.append(
        f"  met on: jitter {sum(c.jitter_ok for c in checks)}/{n}, lag {sum(c.lag_ok for c in checks)}/{n}, "
        f"error {sum(c.error_ok for c in checks)}/{n}, all three {sum(c.all_ok for c in checks)}/{n}; "
        f"mean error {np.nanmean(err):.1f} mm vs MediaPipe's {np.nanmean(mp):.1f} mm"
    )
    return "\n".join(lines)


# --- the harness metric ----------------------------------------------------------------------


def smoothing_metrics(
    result: VariantResult, truth: GroundTruthSequence, *, baseline: VariantResult
) -> dict[str, float]:
    """Columns for ``arpose eval``:

    ``jitter_px``: mean |acceleration| of the image landmarks, px/s^2 (truth's in
    ``jitter_px_gt``). ``jitter_cut_%``: how much less world jitter than ``baseline`` (the raw
    estimate of the same motion), percent: ``100 * (1 - jitter / raw jitter)``, NaN if raw has
    none. ``added_lag_fr``: world lag behind the truth minus the baseline's, frames.
    """
    t = truth.timestamps
    gt_w = truth.markers_mp_world
    jit = metrics.jitter(result.world, t)
    raw_jit = metrics.jitter(baseline.world, t)
    cut = 100.0 * (1.0 - jit / raw_jit) if raw_jit > 0 else math.nan
    return {
        "jitter_px": metrics.jitter(result.image_px, t),
        "jitter_px_gt": metrics.jitter(truth.markers_px, t),
        "jitter_cut_%": cut,
        "added_lag_fr": metrics.lag_frames(result.world, gt_w) - metrics.lag_frames(baseline.world, gt_w),
    }


def write_wrist_plots(folder: str | Path, runs, landmark: PoseLandmark = PoseLandmark.RIGHT_WRIST) -> list[Path]:
    """One PNG per motion run (:class:`arpose.evaluate.harness.MotionRun`): ``landmark``'s
    image x / y and world depth for every variant (raw, MediaPipe-smoothed, ours, ...) and the
    truth.
    Returns the paths written (``<motion>_smoothing_<landmark>.png``)."""
    folder = Path(folder)
    written = []
    for run in runs:
        series = {r.variant.name: r.image_px for r in run.results}
        series["ground truth"] = run.truth.markers_px
        world = {r.variant.name: r.world for r in run.results}
        world["ground truth"] = run.truth.markers_mp_world
        name = f"{Path(str(run.motion)).stem}_smoothing_{landmark.label}.png"
        written.append(
            plot_wrist(
                folder / name,
                run.truth.timestamps,
                series,
                landmark,
                title=f"{run.motion}: {landmark.label}, raw vs smoothed vs truth",
                world=world,
            )
        )
    return written
