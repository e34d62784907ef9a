"""Shared wiring for commands that process frames (run, demo, live, replay): builds the
pipeline from parsed options and drives it over a source with a progress bar."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from tqdm import tqdm

from ..errors import ArposeError
from ..pipeline import ImageSink, Pipeline
from ..record import CsvWriter, VideoWriter, check_writable
from ..render import draw_pose_frame
from ..runtime import LiveRuntime, RuntimeConfig, RuntimeStats
from ..source import Source
from ..types import Camera, PoseFrame
from . import feat_osc, feat_people, feat_props, feat_retarget, feat_smooth, feat_take


@dataclass
class RunContext:
    """What features need to build their stages and sinks."""

    command: str
    source: Source
    camera: Camera


#: Feature modules plugged into every frame-processing command, in pipeline order. Each has
#: ``add_options(parser, command)``, ``stages(args, ctx) -> list`` and ``sinks(args, ctx) -> list``
#: (smoothing, retargeting, overlays, takes, OSC ... register here).
FEATURES: list = [feat_smooth, feat_retarget, feat_osc, feat_take, feat_props, feat_people]


def add_output_options(parser: argparse.ArgumentParser, command: str = "run") -> None:
    """Options every frame-processing command shares, then each feature's options."""
    parser.add_argument("--out", metavar="VIDEO", help="annotated video (.mp4/.avi) or image (.png/.jpg) to write")
    parser.add_argument("--csv", metavar="CSV", help="long-form landmark CSV to write")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--fov",
        type=float,
        default=60.0,
        metavar="DEG",
        help="camera horizontal field of view in degrees, for metric 3D (default 60)",
    )
    for feature in FEATURES:
        feature.add_options(parser, command)


def check_outputs(args: argparse.Namespace) -> None:
    """Fail before any work if an output cannot be written."""
    for path in (getattr(args, "out", None), getattr(args, "csv", None)):
        if path:
            check_writable(path, force=args.force)


@dataclass
class RunSummary:
    frames: int = 0
    frames_with_person: int = 0
    seconds: float = 0.0
    error: ArposeError | None = None
    stats: RuntimeStats | None = None


def build_pipeline(args: argparse.Namespace, ctx: RunContext, estimator, renderer=None) -> Pipeline:
    """Estimator, every feature's stages, the renderer, and every sink (outputs and features)."""
    stages: list = []
    sinks = build_sinks(args, ctx.source)
    for feature in FEATURES:
        stages += feature.stages(args, ctx)
        sinks += feature.sinks(args, ctx)
    return Pipeline(estimator, stages=stages, renderer=renderer, sinks=sinks)


def build_sinks(args: argparse.Namespace, source: Source) -> list:
    """The annotated video and landmark CSV sinks asked for by ``--out`` / ``--csv``."""
    sinks: list = []
    if getattr(args, "out", None):
        sinks.append(ImageSink(VideoWriter(args.out, source.fps, source.size)))
    if getattr(args, "csv", None):
        sinks.append(CsvWriter(args.csv, force=True))
    return sinks


def skeleton_renderer(pose_frame: PoseFrame, fps: float):
    return draw_pose_frame(pose_frame.frame.image.copy(), pose_frame, fps)


def drive(pipeline: Pipeline, source: Source, progress: bool = True, desc: str = "arpose", on_frame=None) -> RunSummary:
    """Run ``source`` through ``pipeline`` on the pipelined runtime; always closes both.

    Files are processed losslessly (every frame, capture/inference/rendering overlapped);
    a webcam runs live (newest frame only). An :class:`ArposeError` raised by the source
    part-way (a truncated video) is kept in the summary after the outputs are closed, so
    the frames done are saved; the caller decides what to report.
    """
    summary = RunSummary()
    live = source.kind == "camera"
    bar = tqdm(
        total=source.frame_count,
        unit="frame",
        desc=desc,
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
    )

    def tick(pf: PoseFrame, image) -> bool | None:
        summary.frames += 1
        summary.frames_with_person += bool(pf.people)
        bar.update(1)
        return on_frame(pf, image) if on_frame is not None else None

    runtime = LiveRuntime(source, pipeline, on_frame=tick, config=RuntimeConfig(drop_frames=live))
    try:
        stats = runtime.run()
    finally:
        bar.close()
    summary.seconds = stats.seconds
    summary.error = stats.error
    summary.stats = stats
    return summary
