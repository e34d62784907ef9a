"""``arpose replay TAKE``: stream a recorded take as if it were live, through the same sinks
as ``arpose live`` (VMC / raw OSC) and optionally an overlay video."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import numpy as np

from ..errors import ConfigError
from ..pipeline import Pipeline

if TYPE_CHECKING:
    from ..record.take import Take
from ..spec import PipelineSpec, VideoOutput
from ..types import Camera, PoseFrame
from . import feat_osc, feat_props
from .cmd_export import add_take_input, open_take
from .runner import output_lines


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="stream a recorded take as if live (VMC/OSC, overlay video)",
        description="Replay a take recorded with --take through the live outputs: VMC to an avatar, "
        "the raw OSC stream, and/or an overlay video (skeleton, and --props / --avatar) drawn on the "
        "source video (--video) or on black. Hands, fingers, face and expressions recorded with "
        "--hands/--face are sent as recorded (not solved again).",
    )
    add_take_input(p)
    pace = p.add_mutually_exclusive_group()
    pace.add_argument(
        "--realtime",
        dest="realtime",
        action="store_true",
        default=True,
        help="send frames at their recorded times (default)",
    )
    pace.add_argument("--fast", dest="realtime", action="store_false", help="send frames as fast as possible")
    p.add_argument("--out", metavar="OVERLAY.mp4", help="overlay video (or image) to write")
    p.add_argument(
        "--video",
        metavar="SOURCE",
        help="the take's source video to draw the overlay on (frames are matched by index; default: black frames)",
    )
    p.add_argument("--no-progress", action="store_true", help="no summary line")
    feat_osc.add_options(p)
    feat_props.add_options(p)
    p.set_defaults(func=run)


class TakeSource:
    """A take seen as a source (for the outputs' context): its name, rate, size and length."""

    kind = "take"
    is_sequence = True

    def __init__(self, take: Take) -> None:
        self.take = take
        self.name = take.path.name
        self.fps = take.fps
        self.size = take.resolution or (640, 480)
        self.frame_count = len(take.frames)

    def __iter__(self):  # pragma: no cover - replay iterates the take itself
        return iter(())

    def close(self) -> None:
        pass


def matched_images(video, indices: Iterable[int]) -> Iterator[np.ndarray]:
    """The video's images for the given increasing frame indices (frames in between are
    skipped); stops early when the video ends."""
    frames = iter(video)
    current = None
    for idx in indices:
        while current is None or current.index < idx:
            try:
                current = next(frames)
            except StopIteration:
                return
        yield current.image


@dataclass
class ReplayStats:
    frames: int = 0
    seconds: float = 0.0
    late_ms_max: float = 0.0


def paced(
    frames: Iterable[PoseFrame],
    realtime: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    stats: ReplayStats | None = None,
) -> Iterator[PoseFrame]:
    """Yield frames; with ``realtime`` each one no earlier than its recorded time after the
    first (relative to ``clock`` at the first frame). Late frames are not skipped."""
    start = t0 = None
    for pf in frames:
        if realtime:
            if start is None:
                start, t0 = clock(), pf.timestamp
            due = start + (pf.timestamp - t0)
            wait = due - clock()
            if wait > 0:
                sleep(wait)
            elif stats is not None:
                stats.late_ms_max = max(stats.late_ms_max, -wait * 1000.0)
        yield pf


def replay(
    take: Take,
    pipeline: Pipeline,
    realtime: bool = True,
    images: Iterable[np.ndarray] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayStats:
    """Push every frame of ``take`` through ``pipeline.emit`` (renderer and sinks), paced by
    the recorded timestamps unless ``realtime`` is False. Closes the pipeline's sinks."""
    stats = ReplayStats()
    t_start = clock()
    try:
        for pf in paced(take.pose_frames(images), realtime, clock, sleep, stats):
            pipeline.emit(pf)
            stats.frames += 1
    except BaseException:
        stats.seconds = clock() - t_start
        pipeline.close(partial=True)  # cut short: the overlay video keeps its frames, marked partial
        raise
    stats.seconds = clock() - t_start
    pipeline.close()
    return stats


def replay_spec(args: argparse.Namespace) -> PipelineSpec:
    """The outputs (VMC, OSC, overlay video) and overlay the options ask for."""
    spec = PipelineSpec()
    if args.out is not None:
        spec = spec.with_output(VideoOutput(args.out))
    spec = feat_props.apply(args, feat_osc.apply(args, spec))
    if not spec.outputs:
        raise ConfigError("nothing to replay to: give --vmc HOST:PORT, --osc HOST:PORT and/or --out OVERLAY.mp4")
    return spec.validate()


def run(args: argparse.Namespace) -> int:
    from ..build import build_pipeline
    from ..source import open_source

    if args.video and not args.out:
        raise ConfigError("--video is the background of the overlay: give --out OVERLAY.mp4 too")
    spec = replay_spec(args)
    take = open_take(args.take, salvage=args.salvage)
    source = TakeSource(take)
    camera = take.camera or Camera.from_fov(*source.size, 60.0)
    inputs = [str(take.path)]
    video = None
    images = None
    if args.video:
        video = open_source(args.video)
        inputs.append(str(args.video))
        if take.resolution and tuple(video.size) != tuple(take.resolution):
            w, h = video.size
            tw, th = take.resolution
            print(
                f"arpose: warning: --video is {w}x{h} but the take was recorded at {tw}x{th}; "
                "the overlay is drawn at the video's size and may not line up",
                file=sys.stderr,
            )
        source.size = video.size
        images = matched_images(video, (f.index for f in take.frames))
    try:
        from ..build import check_outputs

        check_outputs(spec, force=args.force, inputs=inputs)
        pipeline = build_pipeline(spec, source, camera, force=args.force, analysed=True)
        stats = replay(take, pipeline, realtime=args.realtime, images=images)
    finally:
        if video is not None:
            video.close()
    if not args.no_progress:
        print(
            f"replayed {stats.frames} of {len(take.frames)} frames in {stats.seconds:.2f} s",
            file=sys.stderr,
        )
    for line in output_lines(pipeline):
        print(line, file=sys.stderr)
    return 0
