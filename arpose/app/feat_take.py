"""Feature: motion-capture takes and direct BVH for run / demo / live.

Options
-------
``--take FILE``     record a take (every frame and person: landmarks, raw and smoothed values,
                    body pose, joint angles) as the run goes; crash-safe (see ``docs/takes.md``).
``--bvh FILE``      write the retargeted body of one person as BVH when the run ends
                    (needs retargeting on; the person with the most body poses, or ``--bvh-person``).
``--bvh-person N``  the person id for ``--bvh``.
``--bvh-origin O``  ``camera`` (default: the take's camera-attached frame) or ``floor``.
``--take-dir DIR``  (live) folder for takes started with the record key (default: current folder).

In ``arpose live`` the take sink is a :class:`~arpose.record.take.TakeRecorder` that is always
present (idle unless ``--take`` is given); the live window toggles it with
:func:`toggle_take` (automatic names ``take-YYYYMMDD-HHMMSS.take``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NamedTuple

from ..errors import ConfigError
from ..pipeline import Pipeline
from ..record.export import ORIGINS, export_bvh, track_from_pose_frames
from ..record.take import TakeRecorder, TakeWriter, auto_take_name, take_header
from ..record.video import check_writable

#: Commands whose take sink is a key-toggled recorder.
RECORDER_COMMANDS = ("live",)


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
    group = parser.add_argument_group("takes and BVH")
    group.add_argument(
        "--take",
        metavar="FILE",
        help="record a crash-safe take of every frame (see docs/takes.md); export it later with 'arpose export'",
    )
    group.add_argument("--bvh", metavar="FILE", help="write the retargeted body as BVH at the end (needs retargeting)")
    group.add_argument("--bvh-person", type=int, metavar="N", help="person id for --bvh (default: the most tracked)")
    group.add_argument(
        "--bvh-origin",
        choices=ORIGINS,
        default="camera",
        help="--bvh origin: 'camera' frame (default) or 'floor' (floor at Y=0, first hips at X=Z=0)",
    )
    if command in RECORDER_COMMANDS:
        group.add_argument(
            "--take-dir",
            metavar="DIR",
            default=".",
            help="folder for takes started with the record key (default: current folder)",
        )


def stages(args: argparse.Namespace, ctx) -> list:
    return []


def _settings(args: argparse.Namespace) -> dict:
    """The command's options that are plain JSON values (for the take header)."""
    out = {}
    for k, v in sorted(vars(args).items()):
        if k == "func" or callable(v):
            continue
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return out


def header_for(args: argparse.Namespace, ctx) -> dict:
    """The take header of a run: source, resolution, fps, camera, command and options."""
    src = ctx.source
    return take_header(
        source=getattr(src, "name", ""),
        source_kind=getattr(src, "kind", ""),
        resolution=tuple(src.size) if getattr(src, "size", None) else None,
        fps=getattr(src, "fps", None),
        camera=ctx.camera,
        command=ctx.command,
        settings={"options": _settings(args)},
    )


class _TakeReport:
    """Wraps a take writer so closing it prints one summary line (app layer only)."""

    def __init__(self, writer: TakeWriter) -> None:
        self.writer = writer

    def write(self, pose_frame, image) -> None:
        self.writer.write(pose_frame, image)

    def close(self) -> None:
        self.writer.close()
        print(f"wrote take {self.writer.path} ({self.writer.frames} frames)", file=sys.stderr)


class _Body(NamedTuple):
    id: int
    body: object


class BvhSink:
    """Collects every frame's body poses (not images) and writes one person's BVH on close.

    path: the BVH file (checked writable up front); person: id or ``None`` for the person with
    the most body poses; fps: the source's nominal rate (the BVH ``Frame Time``).
    Closing raises :class:`~arpose.errors.InputError` if no body pose was seen.
    """

    def __init__(
        self, path: str, fps: float | None, person: int | None = None, force: bool = False, origin: str = "camera"
    ) -> None:
        self.path = check_writable(path, force=force)
        self.origin = origin
        self.fps = fps
        self.person = person
        self.frames: list[tuple[float, tuple]] = []
        self.written = None

    def write(self, pose_frame, image) -> None:
        # Keep only (id, body): a long live session must not hold every landmark and mask.
        people = tuple(_Body(p.id, p.body) for p in pose_frame.people if p.body is not None)
        self.frames.append((pose_frame.timestamp, people))

    def close(self) -> None:
        if self.written is not None:
            return
        pid, track = track_from_pose_frames(self.frames, self.person, what="the run")
        path, out, rate = export_bvh(track, self.path, nominal_fps=self.fps, force=True, origin=self.origin)
        self.written = (path, pid, out)
        print(f"wrote {path} (person {pid}, {len(out)} frames at {rate:.4g} fps)", file=sys.stderr)


def sinks(args: argparse.Namespace, ctx) -> list:
    force = bool(getattr(args, "force", False))
    take = getattr(args, "take", None)
    bvh = getattr(args, "bvh", None)
    person = getattr(args, "bvh_person", None)
    if person is not None and not bvh:
        raise ConfigError("--bvh-person needs --bvh")
    if bvh and getattr(args, "no_retarget", False):
        raise ConfigError("--bvh needs the retargeted body: drop --no-retarget")
    if take and bvh and Path(take).resolve() == Path(bvh).resolve():
        raise ConfigError("--take and --bvh name the same file; give two different files")
    out: list = []
    if ctx.command in RECORDER_COMMANDS:
        folder = Path(getattr(args, "take_dir", ".") or ".")
        if not folder.is_dir():
            raise ConfigError(f"--take-dir {folder} is not a folder (create it first)")
        recorder = TakeRecorder(header_for(args, ctx))
        if take:
            recorder.start(take, force=force)
        out.append(recorder)
    elif take:
        out.append(_TakeReport(TakeWriter(take, header_for(args, ctx), force=force)))
    if bvh:
        out.append(
            BvhSink(
                bvh, getattr(ctx.source, "fps", None), person, force=force, origin=getattr(args, "bvh_origin", "camera")
            )
        )
    return out


def recorder(pipeline: Pipeline) -> TakeRecorder | None:
    """The pipeline's take recorder (``arpose live``), or ``None``."""
    return next((s for s in pipeline.sinks if isinstance(s, TakeRecorder)), None)


def toggle_take(pipeline: Pipeline, args: argparse.Namespace) -> str:
    """Start or stop a take from the live window's record key; returns a status line for the
    overlay / terminal ("recording take-... .take" or "saved take-... .take (N frames)").
    Raises :class:`~arpose.errors.OutputError` if the take cannot be created."""
    rec = recorder(pipeline)
    if rec is None:
        return "takes are not available in this command"
    if rec.recording:
        frames = rec.frames
        path = rec.stop()
        return f"saved {path} ({frames} frames)"
    path = rec.start(auto_take_name(getattr(args, "take_dir", ".") or "."))
    return f"recording {path}"
