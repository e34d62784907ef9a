"""``arpose demo``: the synthetic performer through the whole pipeline, no camera or file needed.

Renders the mannequin (a built-in motion or a BVH take), runs estimation and every feature's
stages and sinks on it (smoothing, retargeting, OSC, takes ... as registered in
:data:`arpose.app.runner.FEATURES`) and writes every output into one folder, plus the ground
truth, then prints how close the landmarks came to it.
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
from ..performer import PROCEDURAL, MannequinConfig, PerformerSource
from ..types import Camera
from . import cmd_run
from .runner import FEATURES, RunContext, build_pipeline, drive

DEFAULT_DIR = "arpose-demo"
DEFAULT_MOTION = "wave"
DEFAULT_SECONDS = 4.0
#: Marker file that makes a folder the demo's own (safe to overwrite without --force).
MARKER = ".arpose-demo"
#: Output options filled in with a file in the demo folder when the option exists and is unset.
DEMO_FILES = (
    ("out", "demo.mp4"),  # annotated video
    ("csv", "landmarks.csv"),  # long-form landmark CSV
    ("angles", "angles.csv"),  # joint angles (retargeting)
    ("take", "demo.take"),  # crash-safe take (takes)
    ("bvh", "demo.bvh"),  # retargeted body as BVH (takes)
)
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


def make_performer(args: argparse.Namespace, motion: str) -> PerformerSource:
    """The :class:`PerformerSource` the performer options describe."""
    w, h = parse_size(args.size)
    background = None
    if args.background:
        from ..source.sources import _read_image

        background = _read_image(Path(args.background))
    seconds = args.seconds if args.seconds else None
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
    for feature in FEATURES:
        feature.add_options(p, "demo")
    p.set_defaults(func=run)


def prepare_folder(path: Path, force: bool) -> None:
    """Create the demo folder, or accept an existing one that is empty, already the demo's,
    or allowed with ``force``. Raises :class:`OutputError`."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out must be a folder, got a file: {path}")
    if path.is_dir() and any(path.iterdir()) and not (path / MARKER).exists() and not force:
        raise OutputError(f"output folder {path} holds other files; choose a new folder or use --force")
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / MARKER).write_text("written by arpose demo\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {path} ({exc.strerror})") from None


def write_truth(path: Path, source: PerformerSource) -> None:
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


def run(args: argparse.Namespace) -> int:
    out = Path(args.out_dir)
    source = make_performer(args, args.motion)
    prepare_folder(out, args.force)
    args.force = True  # the folder is new, empty, the demo's own, or --force was given: overwrite its files
    needs_body = ("angles", "bvh")
    for dest, name in DEMO_FILES:
        if dest in needs_body and getattr(args, "no_retarget", False):
            continue
        if dest in ("out", "csv") or (hasattr(args, dest) and getattr(args, dest) is None):
            setattr(args, dest, str(out / name))
    write_truth(out / TRUTH_FILE, source)
    estimator = cmd_run.make_estimator(args, source)
    ctx = RunContext(command="demo", source=source, camera=source.camera)
    pipeline = build_pipeline(args, ctx, estimator, renderer=cmd_run.make_renderer(args, ctx))
    n = source.frame_count
    px = np.full((n, NUM_LANDMARKS, 2), np.nan)

    def collect(pf, image) -> None:
        if pf.people:
            px[pf.index] = pf.people[0].pixels(*source.size)

    summary = drive(pipeline, source, progress=not args.no_progress, desc="arpose demo", on_frame=collect)
    gt = source.truth
    pck = M.pck(px, gt.markers_px, gt.torso_px)
    med = M.median_px_error(px, gt.markers_px)
    rate = summary.frames / summary.seconds if summary.seconds > 0 else float("nan")
    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != MARKER)
    print(
        f"{source.motion.name}: {summary.frames} frames at {source.fps:g} fps ({rate:.1f} fps processed), "
        f"person in {summary.frames_with_person}; vs ground truth: PCK@0.2 {pck:.3f}, median error {med:.1f} px\n"
        f"wrote {out}/: {', '.join(files)}",
        file=sys.stderr,
    )
    if summary.error is not None:
        raise summary.error
    return 0
