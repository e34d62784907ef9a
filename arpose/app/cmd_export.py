"""``arpose export TAKE``: a recorded take to BVH and/or the landmark CSV of ``arpose run --csv``."""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, InputError
from ..spec import BVH_ORIGINS as ORIGINS

if TYPE_CHECKING:
    from ..record.take import Take


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a take to BVH or CSV",
        description="Export a take recorded with --take: the retargeted body of one person as BVH "
        "(humanoid skeleton, metres, Y up, ZXY degrees, constant frame rate; the 30 finger bones too when "
        "hands were recorded) and/or the landmarks as the CSV of 'arpose run --csv' (joint angles, if "
        "recorded, go to OUT.angles.csv; hands and face to OUT.hands_face.csv).",
    )
    add_take_input(p)
    p.add_argument("--bvh", metavar="OUT.bvh", help="BVH file to write")
    p.add_argument(
        "--csv",
        metavar="OUT.csv",
        help="landmark CSV to write (plus OUT.angles.csv if angles were recorded, OUT.hands_face.csv if hands "
        "or a face were)",
    )
    p.add_argument(
        "--person", type=int, metavar="N", help="person id (default: BVH the most tracked person, CSV everyone)"
    )
    p.add_argument(
        "--fps",
        type=float,
        metavar="F",
        help="BVH frame rate (default: the take's; uneven takes are resampled to a constant rate)",
    )
    p.add_argument(
        "--smooth",
        choices=("offline", "none"),
        default="none",
        help="offline: smooth every person's raw landmarks again with future frames (zero lag, "
        "docs/smoothing.md) and retarget the smoothed landmarks before exporting (for a take "
        "recorded live, whose landmarks were smoothed causally); none (default): export as recorded",
    )
    p.add_argument(
        "--origin",
        choices=ORIGINS,
        default="camera",
        help="BVH origin: 'camera' keeps the take's camera-attached frame (default); 'floor' puts "
        "the floor at Y=0 and the first frame's hips at X=Z=0",
    )
    p.set_defaults(func=run)


def add_take_input(p: argparse.ArgumentParser) -> None:
    """The options of every command that reads a take: TAKE, --force and --salvage."""
    p.add_argument("take", metavar="TAKE", help="take file written by --take")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--salvage", action="store_true", help="skip damaged records instead of stopping")


def open_take(path: str, salvage: bool = False) -> Take:
    """Read a take for a command; a truncated take's warning goes to stderr, once. A take with
    no frames is an :class:`InputError` (there is nothing to export or replay)."""
    from ..record.take import TruncatedTakeWarning, read_take

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedTakeWarning)
        take = read_take(path, salvage=salvage, warn=False)
    if not take.frames:
        raise InputError(f"take {path} holds no frames (it was stopped before its first frame)")
    if take.warning:
        print(f"arpose: warning: {take.warning}", file=sys.stderr)
    if take.skipped:
        print(f"arpose: warning: skipped {take.skipped} damaged records of {path}", file=sys.stderr)
    return take


def run(args: argparse.Namespace) -> int:
    from ..record.export import export_bvh, export_csv, take_body_track
    from ..record.output import check_writable

    if not (args.bvh or args.csv):
        raise ConfigError("nothing to export: give --bvh OUT.bvh and/or --csv OUT.csv")
    if args.fps is not None and not (math.isfinite(args.fps) and 0 < args.fps <= 1000):
        raise ConfigError(f"--fps must be a number between 0 and 1000, got {args.fps}")
    if not args.bvh and (args.fps is not None or args.origin != "camera"):
        raise ConfigError("--fps and --origin apply to --bvh only")
    for out in (args.bvh, args.csv):
        if out:
            check_writable(out, force=args.force)
    take = open_take(args.take, salvage=args.salvage)
    if args.smooth == "offline":
        take = smooth_take(take)
    if args.bvh:
        pid, track = take_body_track(take, args.person)  # fails before any file is written
    if args.csv:
        path, rows, apath, hpath = export_csv(take, args.csv, person=args.person, force=args.force)
        extra = " and ".join(str(p) for p in (apath, hpath) if p)
        print(f"wrote {path} ({rows} rows)" + (f" and {extra}" if extra else ""), file=sys.stderr)
    if args.bvh:
        path, out, rate = export_bvh(
            track, args.bvh, fps=args.fps, nominal_fps=take.fps, force=args.force, origin=args.origin
        )
        resampled = len(out) != len(track) or not np.array_equal(out.times, track.times)
        note = f", resampled from {len(track)} poses" if resampled else ""
        print(f"wrote {path} (person {pid}, {len(out)} frames at {rate:.4g} fps{note})", file=sys.stderr)
    return 0


def take_spec(take: Take):
    """The :class:`~arpose.spec.PipelineSpec` a take was recorded with (its header's
    ``settings.spec``), else the defaults; ConfigError if the header's spec does not fit."""
    from ..spec import PipelineSpec, spec_from_dict

    recorded = (take.header.get("settings") or {}).get("spec")
    if not isinstance(recorded, dict):
        return PipelineSpec()
    recorded = {k: v for k, v in recorded.items() if k != "outputs"}
    return spec_from_dict(recorded, where=f"take {take.path} header")


def smooth_take(take: Take) -> Take:
    """``take`` with every person's raw landmarks (``raw_landmarks`` / ``raw_world`` when
    recorded, else ``landmarks`` / ``world``) smoothed with future frames
    (:class:`arpose.smooth.OfflineSmoother`, the ``[smooth]`` settings the take was recorded
    with) and, when the take holds bodies, retargeted again from the smoothed landmarks with
    a fresh retargeting stage (bodies and angles derive from the landmarks). Frames, times
    and ids are unchanged; the header is kept."""
    from dataclasses import replace

    from ..build import make_stages
    from ..record.take import TakeFrame
    from ..smooth import OfflineSmoother
    from ..spec import RunningMode
    from ..types import Camera

    spec = take_spec(take)
    spec = replace(spec, estimator=replace(spec.estimator, mode=RunningMode.VIDEO, max_people=1))
    has_body = any(p.body is not None for f in take.frames for p in f.people)
    w, h = take.resolution or (640, 480)
    camera = take.camera or Camera.from_fov(w, h, spec.camera.fov)
    no_smooth = replace(spec.smooth, enabled=False)
    later = make_stages(replace(spec, smooth=no_smooth), camera) if has_body else []
    smoother = OfflineSmoother(spec.smooth.offline_config())
    frames: list[TakeFrame] = []

    def keep(pfs) -> None:
        for pf in pfs:
            for stage in later:
                pf = stage.process(pf)
            frames.append(TakeFrame(pf.index, pf.timestamp, pf.people))

    for pf in take.pose_frames():
        keep(smoother.push(pf))
    keep(smoother.flush())
    return replace(take, frames=frames)
