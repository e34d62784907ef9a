"""``arpose demo``: the synthetic performer through the whole pipeline, no camera or file needed.

Renders the mannequin (a built-in motion or a BVH take), builds the pipeline the options
describe (:func:`demo_spec`: every file output in one folder) and runs it, writes the ground
truth beside, then prints how close the landmarks came to it.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from ..errors import ConfigError, OutputError
from ..evaluate import metrics as M
from ..landmarks import NAMES, NUM_LANDMARKS
from ..spec import AnglesOutput, BvhOutput, CsvOutput, PipelineSpec, RunningMode, TakeOutput, VideoOutput
from ..types import Camera
from .runner import add_feature_options, drive, interrupted_exit, print_config, report, spec_from_args, with_mode

DEFAULT_DIR = "arpose-demo"
DEFAULT_MOTION = "wave"
DEFAULT_SECONDS = 4.0
#: Marker file that makes a folder the demo's own (safe to overwrite without --force).
MARKER = ".arpose-demo"
TRUTH_FILE = "truth.csv"
TRUTH_COLUMNS = ("frame", "timestamp", "landmark", "name", "x_px", "y_px", "x_cam", "y_cam", "z_cam")


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> ``(640, 480)``; raises :class:`ConfigError` otherwise."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size must be WIDTHxHEIGHT, e.g. 640x480, got {text!r}") from None
    if not (64 <= w <= 4096 and 64 <= h <= 4096):
        raise ConfigError(f"--size must be 64 to 4096 pixels per side, got {w}x{h}")
    return w, h


def add_performer_options(p: argparse.ArgumentParser, default_motion: str | None, seconds: float | None) -> None:
    """Options shared by ``demo`` and ``eval``: the motion, length, rate, image and body."""
    from ..performer.motions import PROCEDURAL

    names = ", ".join(PROCEDURAL)
    g = p.add_argument_group("performer")
    if default_motion is not None:
        g.add_argument(
            "--motion",
            default=default_motion,
            metavar="NAME|FILE.bvh",
            help=f"built-in motion ({names}) or a BVH file (default {default_motion})",
        )
    g.add_argument(
        "--seconds",
        type=float,
        default=seconds,
        metavar="S",
        help=f"length in seconds (default {seconds:g}; a BVH take's own length with 0)"
        if seconds
        else "length in seconds (default: a BVH take's own length, 4 s for built-in motions)",
    )
    g.add_argument("--fps", type=float, default=30.0, help="frame rate (default 30)")
    g.add_argument("--size", default="640x480", metavar="WxH", help="image size (default 640x480)")
    g.add_argument(
        "--fov", type=float, default=60.0, metavar="DEG", help="camera horizontal field of view in degrees (default 60)"
    )
    g.add_argument("--height", type=float, default=1.72, metavar="M", help="performer height in metres (default 1.72)")
    g.add_argument("--background", metavar="IMAGE", help="background image instead of the plain wall")
    g.add_argument(
        "--noise",
        type=float,
        default=0.0,
        metavar="LEVELS",
        help="Gaussian sensor noise, standard deviation in 8-bit levels (default 0)",
    )
    g.add_argument("--seed", type=int, default=0, help="seed of the sensor noise (default 0)")


def make_performer(args: argparse.Namespace, motion: str):
    """The :class:`~arpose.performer.PerformerSource` the performer options describe."""
    from ..performer import MannequinConfig, PerformerSource

    w, h = parse_size(args.size)
    background = None
    if args.background:
        from ..source.sources import _read_image

        background = _read_image(Path(args.background))
    seconds = args.seconds
    if seconds == 0:
        from ..performer import get_motion

        if not get_motion(motion).duration:
            raise ConfigError("--seconds 0 means a BVH take's own length; a built-in motion needs a length > 0")
        seconds = None
    return PerformerSource(
        motion,
        seconds=seconds,
        fps=args.fps,
        camera=Camera.from_fov(w, h, args.fov),
        mannequin=MannequinConfig(height=args.height),
        background=background,
        noise=args.noise,
        seed=args.seed,
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on the built-in synthetic performer",
        description="Render the synthetic performer (a mannequin doing a built-in motion or a BVH take), "
        "run the whole pipeline on it and write every output into one folder: annotated video, "
        "landmark CSV, the outputs of every feature, and the ground truth.",
    )
    p.add_argument(
        "--out",
        dest="out_dir",
        default=DEFAULT_DIR,
        metavar="DIR",
        help=f"output folder (default {DEFAULT_DIR}/; created if missing)",
    )
    p.add_argument("--force", action="store_true", help="write into a folder that holds other files")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_performer_options(p, DEFAULT_MOTION, DEFAULT_SECONDS)
    add_feature_options(p)
    p.set_defaults(func=run)


def prepare_folder(path: Path, force: bool) -> None:
    """Create the demo folder, or accept an existing empty one; a folder that holds anything
    (an earlier demo's results included) needs ``force``. Raises :class:`OutputError`."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out must be a folder, got a file: {path}")
    if path.is_dir() and any(path.iterdir()) and not force:
        what = "an earlier demo's results" if (path / MARKER).exists() else "other files"
        raise OutputError(f"output folder {path} holds {what}; choose a new folder or use --force")
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / MARKER).write_text("written by arpose demo\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {path} ({exc.strerror})") from None


def write_truth(path: Path, source) -> None:
    """Ground-truth markers per frame: pixels and OpenCV camera metres (long form)."""
    gt = source.truth
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(TRUTH_COLUMNS)
        for i in range(len(gt)):
            for j in range(NUM_LANDMARKS):
                px, cam = gt.markers_px[i, j], gt.markers_camera[i, j]
                w.writerow(
                    (
                        i,
                        f"{gt.timestamps[i]:.6f}",
                        j,
                        NAMES[j],
                        f"{px[0]:.3f}",
                        f"{px[1]:.3f}",
                        f"{cam[0]:.5f}",
                        f"{cam[1]:.5f}",
                        f"{cam[2]:.5f}",
                    )
                )


def demo_spec(args: argparse.Namespace, out: Path) -> PipelineSpec:
    """The effective spec with every file output the options leave unset placed in ``out``
    (annotated video, landmark CSV, and with retargeting angles, take and BVH)."""
    spec = spec_from_args(args)
    files = {
        "video": VideoOutput(str(out / "demo.mp4")),
        "csv": CsvOutput(str(out / "landmarks.csv")),
        "angles": AnglesOutput(str(out / "angles.csv")),
        "take": TakeOutput(str(out / "demo.take")),
        "bvh": BvhOutput(str(out / "demo.bvh")),
    }
    for kind, output in files.items():
        if kind in ("angles", "bvh") and not spec.retarget.enabled:
            continue
        if spec.output(kind) is None:
            spec = spec.with_output(output)
    return with_mode(spec, RunningMode.VIDEO)


def run(args: argparse.Namespace) -> int:
    from ..build import build_pipeline, chosen_props

    out = Path(args.out_dir)
    spec = demo_spec(args, out)
    if args.print_config:
        return print_config(spec.validate())
    spec.validate()
    chosen_props(spec)  # unknown props or a bad manifest fail before the folder is touched
    source = make_performer(args, args.motion)
    existed = out.is_dir()
    prepare_folder(out, args.force)
    try:
        pipeline = build_pipeline(spec, source, source.camera, force=True, take_header={"command": "demo"})
    except BaseException:
        if not existed:  # nothing of this run is left behind to block the corrected one
            (out / MARKER).unlink(missing_ok=True)
            out.rmdir()
        raise
    write_truth(out / TRUTH_FILE, source)
    n = source.frame_count
    px = np.full((n, NUM_LANDMARKS, 2), np.nan)
    seen = np.zeros(n, dtype=bool)

    def collect(pf, image) -> None:
        seen[pf.index] = True
        if pf.people:
            px[pf.index] = pf.people[0].pixels(*source.size)

    summary = drive(pipeline, source, progress=not args.no_progress, desc="arpose demo", on_frame=collect)
    gt = source.truth
    # Score only the frames that ran (an interrupted demo is not scored against frames it never saw).
    pck = M.pck(px[seen], gt.markers_px[seen], gt.torso_px[seen]) if seen.any() else float("nan")
    med = M.median_px_error(px[seen], gt.markers_px[seen]) if seen.any() else float("nan")
    rate = summary.stats.steady_fps  # as the live HUD counts it: from the first frame on, start-up excluded
    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != MARKER)
    print(
        f"{source.motion.name}: {summary.frames} of {n} frames at {source.fps:g} fps ({rate:.1f} fps processed), "
        f"person in {summary.frames_with_person}; vs ground truth: PCK@0.2 {pck:.3f}, median error {med:.1f} px\n"
        f"wrote {out}/: {', '.join(files)}",
        file=sys.stderr,
    )
    report(pipeline, args)
    if summary.error is not None:
        raise summary.error
    return interrupted_exit(summary.stats)
