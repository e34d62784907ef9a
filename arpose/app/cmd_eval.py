"""``arpose eval``: score the pipeline against the synthetic performer's ground truth.

Rows are (motion, variant). Variants are named pipeline specs,
:func:`arpose.evaluate.harness.default_variants`: ``blazepose`` (raw estimates),
``mediapipe-smoothed`` (MediaPipe's own smoothing), ``one-euro`` (ours) and ``pipeline``: the
spec every frame-processing command would build from this command's options (e.g.
``--no-smooth``, ``--config FILE.toml``). Columns come from
:func:`arpose.evaluate.harness.default_metrics`; jitter cut and added lag compare each row with
the raw estimate of the same motion, computed whether or not its row is selected, so a row is
the same whatever ``--variant`` selects and in which order. When both the
``mediapipe-smoothed`` and ``one-euro`` rows are scored, a per-motion verdict against the
smoothing targets follows the table. ``--arrays DIR`` saves each motion's truth and every
variant's landmarks (:meth:`arpose.evaluate.harness.MotionRun.arrays`) for offline scoring.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from tqdm import tqdm

from ..errors import ConfigError, OutputError
from ..evaluate import harness, smoothing
from ..spec import PipelineSpec
from .cmd_demo import add_performer_options, make_performer
from .runner import add_feature_options, spec_from_args

DEFAULT_MOTIONS = ("tpose", "wave", "squat", "jumping_jack", "walk")
DEFAULT_SECONDS = 4.0

#: Column name -> (header, format) for the table; other columns print with 3 significant digits.
COLUMNS = {
    "detected": ("detected", "{:.0%}"),
    "median_px": ("median px", "{:.1f}"),
    "pck@0.2": ("PCK@0.2", "{:.3f}"),
    "mpjpe_pa_mm": ("MPJPE-PA mm", "{:.0f}"),
    "jitter": ("jitter m/s2", "{:.2f}"),
    "jitter_gt": ("(truth)", "{:.2f}"),
    "lag_frames": ("lag fr", "{:+.2f}"),
    "swapped": ("L/R swapped", "{:.0f}"),
    "swapped_raw": ("(raw)", "{:.0f}"),
    "limb_pck@0.2": ("limb PCK", "{:.3f}"),
    "limb_pck@0.2_raw": ("(raw)", "{:.3f}"),
    "limb_pck@0.2_oracle": ("(oracle)", "{:.3f}"),
    "swap_recovery": ("recovered", "{:.0%}"),
    "bone_step_max_deg": ("max step deg", "{:.0f}"),
    "bone_step_max_gt_deg": ("(truth)", "{:.0f}"),
    "prop_wobble_px": ("crown wobble px", "{:.2f}"),
    "naive_wobble_px": ("(naive)", "{:.2f}"),
    "prop_jitter_px": ("crown jitter px", "{:.2f}"),
    "naive_jitter_px": ("(naive)", "{:.2f}"),
    "prop_jitter_gt": ("(truth)", "{:.2f}"),
    "prop_jitter_cut_%": ("jitter cut", "{:.0f}%"),
    "frames": ("frames", "{:.0f}"),
    "hand_detected_left": ("hand L found", "{:.0%}"),
    "hand_detected_right": ("hand R found", "{:.0%}"),
    "finger_err_deg_left": ("fingers L deg", "{:.1f}"),
    "finger_err_deg_right": ("fingers R deg", "{:.1f}"),
    "finger_err_deg": ("fingers deg", "{:.1f}"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score the pipeline against the synthetic performer's ground truth",
        description="Render the synthetic performer, run BlazePose and every variant of the pipeline on it, "
        "and print detection rate, 2D error (median px, PCK@0.2 of torso size), 3D world error (MPJPE after "
        "Procrustes, mm), jitter (mean |acceleration| of world landmarks, estimate vs truth) and lag (frames).",
    )
    p.add_argument(
        "--motion",
        action="append",
        metavar="NAME|FILE.bvh",
        help=f"motion to score (repeat for several; default: {', '.join(DEFAULT_MOTIONS)})",
    )
    p.add_argument(
        "--variant",
        action="append",
        metavar="NAME",
        help="only these variants, in this order (repeat; default: all of "
        f"{', '.join(v.name for v in harness.default_variants(PipelineSpec()))}; "
        f"{harness.HANDS_VARIANT_NAME} scores hands and fingers and is in the default list with --hands)",
    )
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    p.add_argument("--plot", metavar="DIR", help="write PNG plots per motion into DIR (created if missing)")
    p.add_argument(
        "--arrays",
        metavar="DIR",
        help="write each motion's truth and every variant's landmarks as DIR/<motion>.npz "
        "(created if missing), to score other settings offline",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_performer_options(p, None, DEFAULT_SECONDS)
    add_feature_options(p)
    p.set_defaults(func=run)


def pipeline_spec(args: argparse.Namespace) -> PipelineSpec:
    """The spec ``run`` would build from this command's options (``--config``, ``--no-smooth``
    ...), checked; the harness runs it on the clip as a video, without outputs."""
    return spec_from_args(args).validate(view=True)


def select_variants(args: argparse.Namespace) -> list[harness.Variant]:
    """The default variants (with ``pipeline`` from :func:`pipeline_spec`), or those named by
    ``--variant`` in the order given (a repeated name counts once); ConfigError for an
    unknown name."""
    available = harness.default_variants(pipeline_spec(args))
    if not args.variant:
        return available
    by_name = {v.name: v for v in available}
    by_name.setdefault(harness.HANDS_VARIANT_NAME, harness.hands_variant())  # selectable without --hands
    unknown = [n for n in args.variant if n not in by_name]
    if unknown:
        raise ConfigError(f"unknown variant {', '.join(unknown)}: choose from {', '.join(by_name)}")
    return [by_name[n] for n in dict.fromkeys(args.variant)]


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned text table (NaN prints as '-')."""
    if not rows:
        return "(no rows)"
    keys = ["motion", "variant"] + [k for k in COLUMNS if any(k in r for r in rows)]
    keys += [k for r in rows for k in r if k not in keys and k not in ("motion", "variant")]
    keys = list(dict.fromkeys(keys))

    def cell(r: dict, k: str) -> str:
        v = r.get(k)
        if isinstance(v, str):
            return v
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        fmt = COLUMNS.get(k, (k, "{:.3g}"))[1]
        return fmt.format(v)

    head = [COLUMNS.get(k, (k,))[0] for k in keys]
    body = [[cell(r, k) for k in keys] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(b, widths))))
    return "\n".join(lines)


def write_plots(folder: Path, runs: list[harness.MotionRun]) -> list[Path]:
    """Per motion: per-frame median pixel error of each variant, and one wrist's image
    trajectory and world depth for each variant against the truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    for run in runs:
        gt = run.truth
        t = gt.timestamps
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for r in run.results:
            err = np.linalg.norm(r.image_px - gt.markers_px, axis=-1)
            med = np.array([np.nanmedian(e) if np.isfinite(e).any() else np.nan for e in err])
            ax.plot(t, med, label=r.variant.name)
        ax.set(xlabel="time (s)", ylabel="median landmark error (px)", title=f"{run.motion}: 2D error per frame")
        ax.legend()
        fig.tight_layout()
        written.append(folder / f"{run.motion}_error.png")
        fig.savefig(written[-1], dpi=100)
        plt.close(fig)

    # One wrist's trajectory for every variant (raw, MediaPipe-smoothed, ours) and the truth.
    written += smoothing.write_wrist_plots(folder, runs)
    return written


def _folder(path: str | None, what: str) -> Path | None:
    """``path`` as a created folder (None stays None); :class:`OutputError` if it cannot be made."""
    if path is None:
        return None
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {what} folder {folder} ({exc.strerror})") from None
    return folder


def write_arrays(folder: Path, run: harness.MotionRun) -> Path:
    """``folder/<motion>.npz`` with :meth:`~arpose.evaluate.harness.MotionRun.arrays`."""
    import numpy as np

    path = folder / f"{Path(str(run.motion)).stem}.npz"
    try:
        np.savez_compressed(path, **run.arrays())
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({exc.strerror})") from None
    return path


def run(args: argparse.Namespace) -> int:
    motions = args.motion or list(DEFAULT_MOTIONS)
    variants = select_variants(args)
    plot_dir = _folder(args.plot, "plot")
    arrays_dir = _folder(args.arrays, "arrays")
    runs = []
    for motion in motions:
        source = make_performer(args, motion)
        bar = tqdm(
            unit="frame",
            desc=f"eval {source.motion.name}",
            disable=args.no_progress,
            file=sys.stderr,
            leave=False,
        )

        def progress(label: str, done: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
            bar.update(1)

        try:
            runs.append(harness.run_motion(source, variants, progress=progress))
        finally:
            bar.close()
            source.close()
        if arrays_dir is not None:
            write_arrays(arrays_dir, runs[-1])
    rows = [row for r in runs for row in r.rows]
    rows += [row for r in runs for row in r.comparisons]  # "A vs B" rows: both were selected
    per_gesture = [row for r in runs for row in r.gesture_rows]  # variants with hands, gesture motions
    if args.json:
        rows += per_gesture  # these rows have a "gesture" key
        print(
            json.dumps(
                [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in rows],
                indent=1,
            )
        )
    else:
        print(format_table(rows))
        if per_gesture:
            print()
            print("hands per gesture:")
            shown = [
                {
                    "motion": f"{r['motion']}/{r['gesture']}",
                    **{k: v for k, v in r.items() if k not in ("motion", "gesture")},
                }
                for r in per_gesture
            ]
            print(format_table(shown))
        from ..evaluate import props

        verdicts = (
            smoothing.format_targets(smoothing.check_targets(rows)),
            smoothing.format_restated(rows),
            props.format_targets(rows),
        )
        for verdict in verdicts:
            if verdict:
                print()
                print(verdict)
    if plot_dir is not None:
        written = write_plots(plot_dir, runs)
        print(f"wrote {len(written)} plots to {plot_dir}/", file=sys.stderr)
    return 0
