"""Options: motion-capture takes and direct BVH -> the take and BVH outputs.

``--take FILE``     record a take (every frame and person: landmarks, raw and smoothed values,
                    body pose, joint angles) as the run goes; crash-safe (see ``docs/takes.md``).
``--bvh FILE``      write the retargeted body of one person as BVH when the run ends
                    (needs retargeting on; the person with the most body poses, or ``--bvh-person``;
                    with ``--hands`` also the 30 finger bones under LeftHand / RightHand).
``--bvh-person N``  the person id for ``--bvh``.
``--bvh-origin O``  ``camera`` (default: the take's camera-attached frame) or ``floor``.

``arpose live`` adds ``--take-dir DIR`` (:func:`add_recorder_options`): its take output is a
recorder that starts idle unless ``--take`` is given and is toggled with the record key
(:func:`toggle_take`, automatic names ``take-YYYYMMDD-HHMMSS.take``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..errors import ConfigError
from ..pipeline import Pipeline
from ..spec import BVH_ORIGINS, BvhOutput, PipelineSpec, TakeOutput


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("takes and BVH")
    group.add_argument(
        "--take",
        metavar="FILE",
        help="record a crash-safe take of every frame (see docs/takes.md); export it later with 'arpose export'",
    )
    group.add_argument(
        "--bvh",
        metavar="FILE",
        help="write the retargeted body as BVH at the end (needs retargeting; with --hands the 30 finger bones too)",
    )
    group.add_argument("--bvh-person", type=int, metavar="N", help="person id for --bvh (default: the most tracked)")
    group.add_argument(
        "--bvh-origin",
        choices=BVH_ORIGINS,
        help="--bvh origin: 'camera' frame (default) or 'floor' (floor at Y=0, first hips at X=Z=0)",
    )


def add_recorder_options(parser: argparse.ArgumentParser) -> None:
    """``--take-dir``: for a command whose take output is a key-toggled recorder."""
    parser.add_argument(
        "--take-dir",
        metavar="DIR",
        default=".",
        help="folder for takes started with the record key (default: current folder)",
    )


def apply(args: argparse.Namespace, spec: PipelineSpec, recorder: bool = False) -> PipelineSpec:
    """``spec`` with the take and BVH outputs. ``recorder``: the take output is always there,
    idle unless ``--take`` names a file (a live window's record key starts and stops it)."""
    take, bvh = getattr(args, "take", None), getattr(args, "bvh", None)
    if getattr(args, "bvh_person", None) is not None and bvh is None and spec.output("bvh") is None:
        raise ConfigError("--bvh-person needs --bvh")
    if recorder:
        spec = spec.with_output(TakeOutput(path=take, toggled=True, folder=getattr(args, "take_dir", ".")))
    elif take is not None:
        spec = spec.with_output(TakeOutput(path=take))
    if bvh is not None:
        spec = spec.with_output(BvhOutput(bvh))
    out = spec.output("bvh")
    if out is not None:
        if getattr(args, "bvh_person", None) is not None:
            out = replace(out, person=args.bvh_person)
        if getattr(args, "bvh_origin", None) is not None:
            out = replace(out, origin=args.bvh_origin)
        spec = spec.with_output(out)
    return spec


def recorder(pipeline: Pipeline):
    """The pipeline's take recorder (``arpose live``), or ``None``."""
    from ..record.take import TakeRecorder

    return next((s for s in pipeline.sinks if isinstance(s, TakeRecorder)), None)


def toggle_take(pipeline: Pipeline, folder: str = ".") -> str:
    """Start or stop a take from the live window's record key; returns a status line for the
    overlay / terminal ("recording take-... .take" or "saved take-... .take (N frames)").
    Raises :class:`~arpose.errors.OutputError` if the take cannot be created."""
    from ..record.take import auto_take_name

    rec = recorder(pipeline)
    if rec is None:
        return "takes are not available in this command"
    if rec.recording:
        frames = rec.frames
        path = rec.stop()
        return (
            f"saved {path} ({frames} frames)"
            if path is not None
            else "take stopped before its first frame: nothing saved"
        )
    path = rec.start(auto_take_name(folder or "."))
    return f"recording {path}"
