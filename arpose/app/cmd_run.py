"""``arpose run INPUT``: process a video, image, folder of images or webcam headless."""

from __future__ import annotations

import argparse
import sys

from .runner import add_output_options, drive, interrupted_exit, print_config, report, spec_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="process a video, image, folder or webcam",
        description="Estimate poses in INPUT (video file, image, folder of images, or webcam index) and "
        "write an annotated video and/or a landmark CSV.",
    )
    p.add_argument("input", metavar="INPUT", help="video file, image, folder of images, or webcam index (0, 1, ...)")
    add_output_options(p)
    p.add_argument("--fps", type=float, default=30.0, help="frame rate for image folders (default 30)")
    p.add_argument(
        "--sequence", action="store_true", help="a folder holds consecutive frames of one shot: track between them"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..build import build_pipeline, spec_for_source
    from ..source import open_source

    spec = spec_from_args(args)
    if args.print_config:
        return print_config(spec.validate())
    spec.validate()
    source = open_source(args.input, fps=args.fps, sequence=args.sequence)
    try:
        spec = spec_for_source(spec, source)
        pipeline = build_pipeline(spec, source, force=args.force, take_header={"command": "run"})
    except BaseException:
        source.close()
        raise
    summary = drive(pipeline, source, progress=not args.no_progress)
    rate = summary.stats.steady_fps  # as the live HUD counts it: from the first frame on, start-up excluded
    speed = f", {rate:.1f} fps" if rate == rate else ""  # NaN for a single frame: no rate to tell
    print(f"{summary.frames} frames, person in {summary.frames_with_person}{speed}", file=sys.stderr)
    report(pipeline, args)
    if summary.error is not None:
        raise summary.error
    return interrupted_exit(summary.stats)
