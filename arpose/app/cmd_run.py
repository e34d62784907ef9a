"""``arpose run INPUT``: process a video, image, folder of images or webcam headless."""

from __future__ import annotations

import argparse
import sys

from ..source import open_source
from ..types import Camera
from . import feat_people, feat_props
from .runner import RunContext, add_output_options, build_pipeline, check_outputs, drive, skeleton_renderer


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="process a video, image, folder or webcam",
        description="Estimate poses in INPUT (video file, image, folder of images, or webcam index) and "
        "write an annotated video and/or a landmark CSV.",
    )
    p.add_argument("input", metavar="INPUT", help="video file, image, folder of images, or webcam index (0, 1, ...)")
    add_output_options(p, "run")
    p.add_argument("--fps", type=float, default=30.0, help="frame rate for image folders (default 30)")
    p.add_argument(
        "--sequence", action="store_true", help="a folder holds consecutive frames of one shot: track between them"
    )
    p.set_defaults(func=run)


def make_estimator(args: argparse.Namespace, source):
    """The estimator for ``source`` as the options ask: tracking for sequences, the person
    mask when props need it, several people with ``--max-people``."""
    return feat_people.make_estimator(args, source)


def make_renderer(args: argparse.Namespace, ctx: RunContext):
    """The frame renderer: props / avatar (``--props``, ``--avatar``) under the skeleton and HUD."""
    return feat_props.wrap_renderer(args, ctx, skeleton_renderer)


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    source = open_source(args.input, fps=args.fps, sequence=args.sequence)
    estimator = make_estimator(args, source)
    ctx = RunContext(command="run", source=source, camera=Camera.from_fov(*source.size, args.fov))
    pipeline = build_pipeline(args, ctx, estimator, renderer=make_renderer(args, ctx) if args.out else None)
    summary = drive(pipeline, source, progress=not args.no_progress)
    rate = summary.frames / summary.seconds if summary.seconds > 0 else float("nan")
    print(
        f"{summary.frames} frames, person in {summary.frames_with_person}, {rate:.1f} fps"
        + (f"; wrote {args.out}" if args.out else "")
        + (f"; wrote {args.csv}" if args.csv else ""),
        file=sys.stderr,
    )
    if summary.error is not None:
        raise summary.error
    return 0
