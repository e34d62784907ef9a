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
* :func:`zero_phase_frontier` / :func:`frontier_report`: what zero-phase linear filters
  (Gaussian widths, RTS cutoffs, the Wiener filter designed with the truth known) can reach
  on a clip's 2D landmarks: excess jitter cut against 2D error; :func:`score_offline_arrays`
  scores the zero-lag smoother over ``arpose eval --arrays`` caches.

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
    "excess_cut",
    "lag_behind",
    "frame_errors_mm",
    "block_bootstrap",
    "peer_comparisons",
    "format_restated",
    "TARGET_IMAGE_EXCESS_CUT",
    "TARGET_OFFLINE_EXCESS_CUT",
    "ZERO_LAG",
    "gaussian_zero_phase",
    "wiener_oracle",
    "FrontierPoint",
    "zero_phase_frontier",
    "best_on_frontier",
    "format_frontier",
    "frontier_report",
    "median_error_change",
    "score_offline_arrays",
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


def excess_cut(jitter: float, raw_jitter: float, true_jitter: float) -> float:
    """Percent of the raw estimate's *excess* jitter (above the truth's own) that is gone:
    ``100 * (raw - jitter) / (raw - truth)``. 100 means as steady as the true motion; above
    100, steadier than it. NaN when raw is not above the truth."""
    excess = raw_jitter - true_jitter
    return 100.0 * (raw_jitter - jitter) / excess if excess > 0 else math.nan


#: Half-gain frequency (Hz) of the zero-phase low-pass applied to both series before
#: :func:`lag_behind` cross-correlates them: it keeps the motion and drops the noise band.
MOTION_BAND_HZ = 2.0


def lag_behind(est: np.ndarray, ref: np.ndarray, t: np.ndarray) -> float:
    """Delay of ``est`` behind ``ref`` in frames, in the motion band: both ``(F, N, D)``
    series are low-passed with the zero-phase smoother at :data:`MOTION_BAND_HZ`
    (:func:`arpose.smooth.rts_smooth`, so the low-pass itself shifts nothing), then their
    velocities are cross-correlated (:func:`arpose.evaluate.metrics.lag_frames`). Unlike the lag
    behind the truth, it does not depend on how much real motion a clip has: a zero-phase
    smoother of ``ref`` measures 0, a causal one its delay on motion."""
    from ..smooth import rts_smooth

    e = np.asarray(est, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    f = e.shape[0]
    if f < 4:
        return math.nan
    lp_e = rts_smooth(e.reshape(f, -1), t, MOTION_BAND_HZ, 3)
    lp_r = rts_smooth(r.reshape(f, -1), t, MOTION_BAND_HZ, 3)
    return metrics.lag_frames(lp_e, lp_r)


def smoothing_metrics(
    result: VariantResult, truth: GroundTruthSequence, *, baseline: VariantResult
) -> dict[str, float]:
    """Columns for ``arpose eval`` (``baseline``: the raw estimate of the same motion):

    * ``jitter_px``: mean |acceleration| of the image landmarks, px/s^2 (truth's in
      ``jitter_px_gt``).
    * ``jitter_cut_%``: how much less world jitter than raw, percent:
      ``100 * (1 - jitter / raw jitter)``, NaN if raw has none.
    * ``excess_cut_%`` / ``excess_cut_px_%``: percent of raw's excess world / image jitter
      (above the truth's own) removed (:func:`excess_cut`).
    * ``added_lag_fr`` / ``added_lag_px_fr``: world / image lag behind the truth minus raw's,
      frames (velocity cross-correlation, :func:`arpose.evaluate.metrics.lag_frames`).
    * ``lag_vs_raw_fr``: world delay behind raw in the motion band (:func:`lag_behind`).
    * ``mpjpe_vs_raw_mm``: world MPJPE-PA minus raw's, mm; ``median_px_vs_raw``: median 2D
      error minus raw's, px (negative: closer to the truth than raw).
    """
    t = truth.timestamps
    gt_w, gt_px = truth.markers_mp_world, truth.markers_px
    jit = metrics.jitter(result.world, t)
    raw_jit = metrics.jitter(baseline.world, t)
    jit_px = metrics.jitter(result.image_px, t)
    raw_px = metrics.jitter(baseline.image_px, t)
    true_px = metrics.jitter(gt_px, t)
    cut = 100.0 * (1.0 - jit / raw_jit) if raw_jit > 0 else math.nan
    return {
        "jitter_px": jit_px,
        "jitter_px_gt": true_px,
        "jitter_cut_%": cut,
        "excess_cut_%": excess_cut(jit, raw_jit, metrics.jitter(gt_w, t)),
        "excess_cut_px_%": excess_cut(jit_px, raw_px, true_px),
        "added_lag_fr": metrics.lag_frames(result.world, gt_w) - metrics.lag_frames(baseline.world, gt_w),
        "added_lag_px_fr": metrics.lag_frames(result.image_px, gt_px) - metrics.lag_frames(baseline.image_px, gt_px),
        "lag_vs_raw_fr": lag_behind(result.world, baseline.world, t),
        "mpjpe_vs_raw_mm": metrics.mpjpe_procrustes(result.world, gt_w)
        - metrics.mpjpe_procrustes(baseline.world, gt_w),
        "median_px_vs_raw": metrics.median_px_error(result.image_px, gt_px)
        - metrics.median_px_error(baseline.image_px, gt_px),
    }


# --- paired comparison with MediaPipe's smoothing: block bootstrap ---------------------------

#: Frames per block of the bootstrap (about half a second at 30 fps: errors of nearby frames
#: are correlated, so frames are resampled in runs).
BOOTSTRAP_BLOCK = 15
BOOTSTRAP_RESAMPLES = 2000


def frame_errors_mm(world: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(F,)`` per-frame world error in mm after per-frame Procrustes (the frame's mean over
    landmarks of :func:`arpose.evaluate.metrics.procrustes_align`'s residuals); NaN for
    frames that cannot be scored. world, truth: ``(F, 33, 3)`` metres."""
    out = np.full(len(world), np.nan)
    for k, (p, g) in enumerate(zip(np.asarray(world, np.float64), np.asarray(truth, np.float64))):
        e = np.linalg.norm(metrics.procrustes_align(p, g) - g, axis=1)
        e = e[np.isfinite(e)]
        if e.size:
            out[k] = 1000.0 * e.mean()
    return out


def block_bootstrap(
    diff: np.ndarray, block: int = BOOTSTRAP_BLOCK, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of the per-frame differences ``diff`` ``(F,)`` (NaN frames left out) and its 95%
    interval by the moving-block bootstrap (blocks of ``block`` consecutive frames drawn with
    replacement, ``resamples`` times, a fixed ``seed``): ``(mean, low, high)``."""
    d = np.asarray(diff, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.nan, math.nan, math.nan
    block = max(1, min(block, d.size))
    starts = d.size - block + 1
    n_blocks = int(math.ceil(d.size / block))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, starts, (resamples, n_blocks))[:, :, None] + np.arange(block)
    means = d[idx.reshape(resamples, -1)[:, : d.size]].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(d.mean()), float(low), float(high)


def peer_comparisons(results: list[VariantResult], truth: GroundTruthSequence) -> list[dict]:
    """When the ``mediapipe-smoothed`` result is among ``results``, one row per other result
    ``{"motion", "variant": "NAME vs mediapipe-smoothed", "vs_mediapipe_mm", "vs_mediapipe_lo",
    "vs_mediapipe_hi"}``: the mean per-frame MPJPE-PA difference (mm, positive = worse than
    MediaPipe's smoothing) and its block-bootstrap 95% interval (:func:`block_bootstrap`).
    Empty otherwise."""
    peer = next((r for r in results if r.variant.name == MEDIAPIPE_VARIANT_NAME), None)
    if peer is None:
        return []
    gt = truth.markers_mp_world
    base = frame_errors_mm(peer.world, gt)
    out = []
    for r in results:
        if r is peer:
            continue
        mean, lo, hi = block_bootstrap(frame_errors_mm(r.world, gt) - base)
        out.append(
            {
                "motion": r.motion,
                "variant": f"{r.variant.name} vs {MEDIAPIPE_VARIANT_NAME}",
                "vs_mediapipe_mm": mean,
                "vs_mediapipe_lo": lo,
                "vs_mediapipe_hi": hi,
            }
        )
    return out


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


# --- the targets of issue 20 (causal restated from issue 4; zero-lag offline) ---------------

#: Causal image landmarks, every clip: percent of raw's excess 2D jitter removed, at most
#: TARGET_ADDED_LAG frames of added 2D lag, 2D median error not above raw's.
TARGET_IMAGE_EXCESS_CUT = 60.0
#: Zero-lag smoother, every clip: percent of raw's excess jitter removed (world and image),
#: error not above raw's (world MPJPE-PA and 2D median), and no measured lag: the delay behind
#: raw in the motion band (:func:`lag_behind`) within ZERO_LAG frames either way.
TARGET_OFFLINE_EXCESS_CUT = 75.0
ZERO_LAG = 0.1


def _num(v) -> float:
    return float("nan") if v is None else float(v)


def _by_motion(rows: list[dict]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for r in rows:
        out.setdefault(r["motion"], {})[r["variant"]] = r
    return out


def _is_take(motion: str) -> bool:
    """True for a motion played from a BVH take (not a built-in procedural motion)."""
    from ..performer.motions import PROCEDURAL

    return motion.strip().lower().replace("-", "_") not in PROCEDURAL


def format_restated(
    rows: list[dict],
    ours: str = OURS_VARIANT_NAME,
    peer: str = MEDIAPIPE_VARIANT_NAME,
    offline: str | None = None,
) -> str:
    """The verdict against issue 20's smoothing targets from ``arpose eval`` rows and
    comparison rows (see :func:`smoothing_metrics` and :func:`peer_comparisons` for the
    columns), one block each:

    * causal image landmarks (``ours``), every clip: excess 2D jitter cut >= 60%, added 2D lag
      <= 1 frame, 2D median error not above raw;
    * causal world landmarks over the BVH takes: mean jitter cut >= 60%, mean added lag <= 1
      frame, mean error below ``peer``'s, and on every take not significantly worse than
      ``peer`` (block-bootstrap 95% interval of the per-frame difference not above zero);
    * the zero-lag smoother (``offline``, default :data:`~arpose.evaluate.harness.OFFLINE_VARIANT_NAME`),
      every clip: excess jitter cut >= 75% (world and image), lag behind raw within
      :data:`ZERO_LAG` frames, error not above raw (world and 2D).

    A block is left out when its rows are missing; empty string when all are."""
    from .harness import OFFLINE_VARIANT_NAME

    offline = OFFLINE_VARIANT_NAME if offline is None else offline
    by = _by_motion(rows)
    mark = {True: "yes", False: "NO"}
    out: list[str] = []
    width = max((len(m) for m in by), default=0)

    img = [(m, v[ours]) for m, v in by.items() if ours in v]
    if img:
        out.append(
            f"causal image landmarks ({ours}), every clip: excess 2D jitter cut >= {TARGET_IMAGE_EXCESS_CUT:.0f}%, "
            f"added 2D lag <= {TARGET_ADDED_LAG:g} frame, 2D median error not above raw"
        )
        met = 0
        for m, r in img:
            cut, lag, err = (
                _num(r.get("excess_cut_px_%")),
                _num(r.get("added_lag_px_fr")),
                _num(r.get("median_px_vs_raw")),
            )
            ok = (cut >= TARGET_IMAGE_EXCESS_CUT, lag <= TARGET_ADDED_LAG, err <= 0.0)
            met += all(ok)
            out.append(
                f"  {m:<{width}}  excess -{cut:.0f}% {mark[ok[0]]:>3}  lag {lag:+.2f} fr {mark[ok[1]]:>3}  "
                f"median {err:+.2f} px vs raw {mark[ok[2]]:>3}"
            )
        out.append(f"  met on {met}/{len(img)} clips")

    takes = [
        (m, v[ours], v[peer], v.get(f"{ours} vs {peer}", {}))
        for m, v in by.items()
        if ours in v and peer in v and _is_take(m)
    ]
    if takes:
        cut = np.array([_num(o.get("jitter_cut_%")) for _, o, _, _ in takes])
        lag = np.array([_num(o.get("added_lag_fr")) for _, o, _, _ in takes])
        err = np.array([_num(o.get("mpjpe_pa_mm")) for _, o, _, _ in takes])
        mp = np.array([_num(p.get("mpjpe_pa_mm")) for _, _, p, _ in takes])
        out.append(
            f"causal world landmarks ({ours}) over {len(takes)} takes: mean jitter cut "
            f"{np.nanmean(cut):.1f}% {mark[bool(np.nanmean(cut) >= TARGET_JITTER_CUT)]}, mean added lag "
            f"{np.nanmean(lag):+.2f} fr {mark[bool(np.nanmean(lag) <= TARGET_ADDED_LAG)]}, mean error "
            f"{np.nanmean(err):.1f} vs {peer} {np.nanmean(mp):.1f} mm {mark[bool(np.nanmean(err) < np.nanmean(mp))]}"
        )
        worse = 0
        for m, _, _, c in takes:
            d, lo, hi = _num(c.get("vs_mediapipe_mm")), _num(c.get("vs_mediapipe_lo")), _num(c.get("vs_mediapipe_hi"))
            sig = lo > 0.0
            worse += sig
            out.append(
                f"  {m:<{width}}  error vs {peer} {d:+.1f} mm [{lo:+.1f}, {hi:+.1f}] "
                f"{'significantly worse' if sig else 'not significantly worse'}"
            )
        out.append(f"  significantly worse than {peer} on {worse}/{len(takes)} takes")

    off = [(m, v[offline]) for m, v in by.items() if offline in v]
    if off:
        out.append(
            f"zero-lag smoother ({offline}), every clip: excess jitter cut >= {TARGET_OFFLINE_EXCESS_CUT:.0f}% "
            f"(world and image), |lag behind raw| <= {ZERO_LAG:g} fr, error not above raw (world and 2D)"
        )
        met = 0
        for m, r in off:
            cw, ci = _num(r.get("excess_cut_%")), _num(r.get("excess_cut_px_%"))
            lag, lag_t = _num(r.get("lag_vs_raw_fr")), _num(r.get("added_lag_fr"))
            ew, ei = _num(r.get("mpjpe_vs_raw_mm")), _num(r.get("median_px_vs_raw"))
            ok = (
                min(cw, ci) >= TARGET_OFFLINE_EXCESS_CUT,
                abs(lag) <= ZERO_LAG,
                ew <= 0.0 and ei <= 0.0,
            )
            met += all(ok)
            out.append(
                f"  {m:<{width}}  excess -{cw:.0f}% / -{ci:.0f}% px {mark[ok[0]]:>3}  lag {lag:+.2f} fr "
                f"(vs truth {lag_t:+.2f}) {mark[ok[1]]:>3}  error {ew:+.1f} mm {ei:+.2f} px vs raw {mark[ok[2]]:>3}"
            )
        out.append(f"  met on {met}/{len(off)} clips")
    return "\n".join(out)


# --- what any zero-phase linear filter can reach: the frontier of (excess cut, error) -------

#: Zero-phase Gaussian widths (standard deviation, frames), RTS cutoffs (Hz) and oracle
#: Wiener noise weights swept by :func:`zero_phase_frontier`.
FRONTIER_SIGMAS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0)
FRONTIER_CUTOFFS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0)
FRONTIER_WEIGHTS = tuple(float(v) for v in np.geomspace(0.01, 100.0, 17))
#: Frequency bins (each side) over which the oracle Wiener filter averages the periodograms
#: of the truth and of the error (a smooth gain, not one fitted to each bin's realisation).
WIENER_BINS = 3


def gaussian_zero_phase(x: np.ndarray, sigma: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing over frames: each frame becomes the Gaussian-weighted
    mean (standard deviation ``sigma`` frames, truncated at 4 sigma) of the finite samples
    around it; the weights are renormalised at the ends and over NaN samples, and a NaN
    sample stays NaN. x: ``(F, ...)`` any units, evenly sampled. Returns float64, same shape.
    ``sigma = 0`` returns a copy."""
    x = np.asarray(x, dtype=np.float64)
    if sigma <= 0:
        return x.copy()
    r = int(math.ceil(4.0 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    flat = x.reshape(x.shape[0], -1)
    ok = np.isfinite(flat)
    v = np.where(ok, flat, 0.0)
    pad = ((r, r), (0, 0))
    vp, wp = np.pad(v, pad), np.pad(ok.astype(np.float64), pad)
    num = sum(k[j] * vp[j : j + flat.shape[0]] for j in range(k.size))
    den = sum(k[j] * wp[j : j + flat.shape[0]] for j in range(k.size))
    out = np.where(ok, num / np.where(den > 0, den, 1.0), np.nan)
    return out.reshape(x.shape)


def _fill_nan(flat: np.ndarray) -> np.ndarray:
    """``(F, C)`` with each channel's NaN samples linearly interpolated over frames (ends
    held); an all-NaN channel becomes zeros."""
    out = flat.copy()
    idx = np.arange(flat.shape[0])
    for c in range(flat.shape[1]):
        ok = np.isfinite(flat[:, c])
        out[:, c] = np.interp(idx, idx[ok], flat[ok, c]) if ok.any() else 0.0
    return out


def wiener_oracle(raw: np.ndarray, truth: np.ndarray, weight: float = 1.0, bins: int = WIENER_BINS) -> np.ndarray:
    """The zero-phase Wiener filter designed with the truth known (an oracle: no real
    smoother has the truth), per channel.

    raw, truth: ``(F, ...)`` the same quantity (e.g. ``(F, 33, 2)`` pixels), evenly sampled.
    Each channel, less its mean (which passes unchanged), is extended by its mirror image
    (length ``2F``, so the ends do not wrap); its gain at each frequency is
    ``S / (S + weight N)``, with ``S`` and ``N`` the periodograms of the truth and of the error
    ``raw - truth`` averaged over ``bins`` bins each side. The gain
    is real and in [0, 1]: no phase, no lag. ``weight = 1`` is the minimum mean-square-error
    filter of those spectra; larger weights remove more noise and more motion. Returns the
    filtered ``raw`` (float64, same shape, NaN where raw is NaN; NaN samples are interpolated
    for the filtering)."""
    raw = np.asarray(raw, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if raw.shape != truth.shape:
        raise ValueError(f"raw and truth must have the same shape, got {raw.shape} and {truth.shape}")
    f = raw.shape[0]
    x = _fill_nan(raw.reshape(f, -1))
    s = _fill_nan(truth.reshape(f, -1))
    mean = x.mean(axis=0)
    x, s = x - mean, s - s.mean(axis=0)

    def mirror(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, a[::-1]], axis=0)

    X, S, E = np.fft.fft(mirror(x), axis=0), np.fft.fft(mirror(s), axis=0), np.fft.fft(mirror(x - s), axis=0)
    box = np.ones(2 * bins + 1) / (2 * bins + 1)

    def smooth(p: np.ndarray) -> np.ndarray:  # circular moving average over frequency bins
        ext = np.concatenate([p[-bins:], p, p[:bins]], axis=0) if bins else p
        return np.apply_along_axis(lambda c: np.convolve(c, box, mode="valid"), 0, ext) if bins else p

    ps, pn = smooth(np.abs(S) ** 2), smooth(np.abs(E) ** 2)
    gain = ps / np.maximum(ps + weight * pn, 1e-300)
    gain[0] = 1.0  # the mean passes unchanged
    y = np.real(np.fft.ifft(gain * X, axis=0))[:f] + mean
    return np.where(np.isfinite(raw.reshape(f, -1)), y, np.nan).reshape(raw.shape)


@dataclass(frozen=True)
class FrontierPoint:
    """One zero-phase filter applied to a clip's raw 2D landmarks, scored against the truth.

    family: ``"gaussian"`` (``parameter``: sigma in frames), ``"rts"`` (the zero-lag smoother
    at one cutoff for every landmark, Hz), ``"wiener"`` (:func:`wiener_oracle`, the noise
    weight) or ``"truth+smoothed error"`` (the truth plus the Gaussian-smoothed error: a
    filter that leaves the true motion untouched and only removes the error's fast part; not
    realisable, a bound). excess_cut: percent of raw's excess 2D jitter removed
    (:func:`excess_cut`); error_vs_raw: 2D median error minus raw's, px.
    """

    family: str
    parameter: float
    excess_cut: float
    error_vs_raw: float

    def meets(self, cut_target: float) -> bool:
        return self.excess_cut >= cut_target and self.error_vs_raw <= 0.0


def zero_phase_frontier(
    raw_px: np.ndarray,
    truth_px: np.ndarray,
    t: np.ndarray,
    sigmas: tuple[float, ...] = FRONTIER_SIGMAS,
    cutoffs: tuple[float, ...] = FRONTIER_CUTOFFS,
    weights: tuple[float, ...] = FRONTIER_WEIGHTS,
) -> list[FrontierPoint]:
    """Every filter of four zero-phase families over one clip, scored like ``arpose eval``'s
    image columns (``excess_cut_px_%``, ``median_px_vs_raw``).

    raw_px, truth_px: ``(F, N, 2)`` pixels (x right, y down); t: ``(F,)`` seconds, evenly
    spaced (the Gaussian and Wiener families count frames). Returns the points of the
    ``gaussian`` (``sigmas``, frames), ``rts`` (``cutoffs``, Hz, order 3), ``wiener``
    (``weights``, the oracle of :func:`wiener_oracle`) and ``truth+smoothed error``
    (``sigmas``) families, in that order. See :class:`FrontierPoint`."""
    from ..smooth import rts_smooth

    raw = np.asarray(raw_px, dtype=np.float64)
    truth = np.asarray(truth_px, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    raw_jit, true_jit = metrics.jitter(raw, t), metrics.jitter(truth, t)
    raw_err = metrics.median_px_error(raw, truth)
    f = raw.shape[0]

    def point(family: str, parameter: float, out: np.ndarray) -> FrontierPoint:
        cut = excess_cut(metrics.jitter(out, t), raw_jit, true_jit)
        return FrontierPoint(family, float(parameter), cut, metrics.median_px_error(out, truth) - raw_err)

    pts = [point("gaussian", s, gaussian_zero_phase(raw, s)) for s in sigmas]
    pts += [point("rts", c, rts_smooth(raw.reshape(f, -1), t, c, 3).reshape(raw.shape)) for c in cutoffs]
    pts += [point("wiener", w, wiener_oracle(raw, truth, w)) for w in weights]
    pts += [point("truth+smoothed error", s, truth + gaussian_zero_phase(raw - truth, s)) for s in sigmas]
    return pts


def best_on_frontier(points: list[FrontierPoint], cut_target: float) -> FrontierPoint | None:
    """The point that meets ``cut_target`` (percent) with the lowest error vs raw, if any
    meets it with error not above raw; else the point with the lowest error among those
    reaching the cut; None if no point reaches the cut."""
    reach = [p for p in points if p.excess_cut >= cut_target]
    return min(reach, key=lambda p: p.error_vs_raw) if reach else None


def format_frontier(name: str, points: list[FrontierPoint], cut_target: float) -> str:
    """One clip's frontier as text: per family, each point's ``cut/error``, then per family
    whether any point reaches ``cut_target`` percent with 2D error not above raw."""
    lines = [f"{name}: excess 2D jitter cut % / 2D median error vs raw px"]
    families = list(dict.fromkeys(p.family for p in points))
    for fam in families:
        fp = [p for p in points if p.family == fam]
        cells = " ".join(f"{p.parameter:g}:{p.excess_cut:.0f}/{p.error_vs_raw:+.2f}" for p in fp)
        best = best_on_frontier(fp, cut_target)
        if best is None:
            verdict = f"no point reaches {cut_target:.0f}%"
        else:
            verdict = (
                f"best at >= {cut_target:.0f}%: {best.parameter:g} ({best.excess_cut:.0f}%, "
                f"{best.error_vs_raw:+.3f} px) {'MEETS' if best.meets(cut_target) else 'error above raw'}"
            )
        lines.append(f"  {fam:<21} {verdict}\n    {cells}")
    return "\n".join(lines)


def frontier_report(folder: str | Path, variant: str = RAW_VARIANT_NAME, cut_target: float | None = None) -> str:
    """:func:`format_frontier` for every clip cached by ``arpose eval --arrays FOLDER``
    (``FOLDER/<motion>.npz``: ``t``, ``size``, ``truth.px``, ``<variant>.image``), in name
    order. cut_target: percent, default :data:`TARGET_OFFLINE_EXCESS_CUT`. Returns the text
    (empty when the folder holds no clip)."""
    target = TARGET_OFFLINE_EXCESS_CUT if cut_target is None else float(cut_target)
    blocks = []
    for path in sorted(Path(folder).glob("*.npz")):
        with np.load(path) as a:
            px = np.asarray(a[f"{variant}.image"], dtype=np.float64)[..., :2] * np.asarray(a["size"], np.float64)
            points = zero_phase_frontier(px, a["truth.px"], a["t"])
        blocks.append(format_frontier(path.stem, points, target))
    return "\n".join(blocks)


def median_error_change(
    est_px: np.ndarray,
    raw_px: np.ndarray,
    truth_px: np.ndarray,
    block: int = BOOTSTRAP_BLOCK,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float, float]:
    """How much a smoother moves the 2D median error, and how well a clip can tell:
    ``(median(est) - median(raw), low, high)`` in px, the interval being the 95% moving-block
    bootstrap of that difference (blocks of ``block`` consecutive frames, drawn with
    replacement ``resamples`` times with a fixed ``seed``; both medians over the same drawn
    frames, pooled over points as :func:`arpose.evaluate.metrics.median_px_error` does).
    est_px, raw_px, truth_px: ``(F, N, 2)`` pixels."""
    e = metrics.pixel_errors(est_px, truth_px)
    r = metrics.pixel_errors(raw_px, truth_px)
    diff = float(np.nanmedian(e) - np.nanmedian(r))
    f = e.shape[0]
    block = max(1, min(block, f))
    n_blocks = int(math.ceil(f / block))
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, f - block + 1, (resamples, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)).reshape(resamples, -1)[:, :f]
    draws = np.nanmedian(e[idx].reshape(resamples, -1), axis=1) - np.nanmedian(r[idx].reshape(resamples, -1), axis=1)
    low, high = np.percentile(draws, [2.5, 97.5])
    return diff, float(low), float(high)


def score_offline_arrays(folder: str | Path, config=None) -> list[dict]:
    """The zero-lag smoother (:func:`arpose.smooth.smooth_sequence` with ``config``, default
    :class:`arpose.smooth.OfflineConfig`) over every clip cached by ``arpose eval --arrays
    FOLDER``, scored from the cached raw estimate (``blazepose.image`` / ``blazepose.world``)
    with the columns :func:`smoothing_metrics` gives the ``offline`` row: one dict per clip,
    in name order, with ``motion``, ``variant`` (``offline``), ``excess_cut_%``,
    ``excess_cut_px_%``, ``lag_vs_raw_fr``, ``added_lag_fr``, ``added_lag_px_fr``,
    ``mpjpe_vs_raw_mm``, ``median_px_vs_raw`` and the bootstrap interval of the last
    (``median_px_vs_raw_lo`` / ``_hi``, :func:`median_error_change`). :func:`format_restated`
    turns them into the verdict."""
    from ..smooth import OfflineConfig, smooth_sequence
    from .harness import OFFLINE_VARIANT_NAME

    config = OfflineConfig() if config is None else config
    rows = []
    for path in sorted(Path(folder).glob("*.npz")):
        with np.load(path) as a:
            t, size = a["t"], np.asarray(a["size"], np.float64)
            gt_w, gt_px = a["truth.world"], a["truth.px"]
            raw_i = np.asarray(a[f"{RAW_VARIANT_NAME}.image"], np.float64)
            raw_w = np.asarray(a[f"{RAW_VARIANT_NAME}.world"], np.float64)
        img, world = smooth_sequence(raw_i, raw_w, t, config)
        px, raw_px = img[..., :2] * size, raw_i[..., :2] * size
        d, lo, hi = median_error_change(px, raw_px, gt_px)
        rows.append(
            {
                "motion": path.stem,
                "variant": OFFLINE_VARIANT_NAME,
                "excess_cut_%": excess_cut(metrics.jitter(world, t), metrics.jitter(raw_w, t), metrics.jitter(gt_w, t)),
                "excess_cut_px_%": excess_cut(
                    metrics.jitter(px, t), metrics.jitter(raw_px, t), metrics.jitter(gt_px, t)
                ),
                "lag_vs_raw_fr": lag_behind(world, raw_w, t),
                "added_lag_fr": metrics.lag_frames(world, gt_w) - metrics.lag_frames(raw_w, gt_w),
                "added_lag_px_fr": metrics.lag_frames(px, gt_px) - metrics.lag_frames(raw_px, gt_px),
                "mpjpe_vs_raw_mm": metrics.mpjpe_procrustes(world, gt_w) - metrics.mpjpe_procrustes(raw_w, gt_w),
                "median_px_vs_raw": d,
                "median_px_vs_raw_lo": lo,
                "median_px_vs_raw_hi": hi,
            }
        )
    return rows
