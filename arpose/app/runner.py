"""From arguments to a running pipeline, for the commands that process frames (run, demo,
live, bench): options -> :class:`~arpose.spec.PipelineSpec` -> :func:`arpose.build.build_pipeline`
-> the runtime, with a progress bar and one summary line per output.

Precedence of settings: the spec's defaults, then ``--config FILE.toml`` (the whole spec,
one table per stage), then the command-line options given. ``--print-config`` prints the
effective spec as TOML instead of running.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace

from ..errors import ArposeError, ConfigError
from ..pipeline import Pipeline
from ..spec import CsvOutput, PipelineSpec, RunningMode, VideoOutput, load_spec, spec_to_toml
from . import feat_holistic, feat_osc, feat_people, feat_props, feat_retarget, feat_smooth, feat_take

#: Option modules, in pipeline order. Each has ``add_options(parser)`` and
#: ``apply(args, spec) -> spec``; none knows which command it serves.
OPTION_MODULES = (feat_people, feat_holistic, feat_smooth, feat_retarget, feat_props, feat_take, feat_osc)


def add_feature_options(parser: argparse.ArgumentParser) -> None:
    """Every stage's options, ``--config`` and ``--print-config``."""
    for module in OPTION_MODULES:
        module.add_options(parser)
    group = parser.add_argument_group("settings")
    group.add_argument(
        "--config",
        metavar="FILE.toml",
        help="TOML settings: the whole pipeline, one table per stage ([estimator], [smooth], "
        "[retarget], [overlay], [outputs.vmc] ...); options given on the command line win",
    )
    group.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective settings as TOML (for --config) and exit without running",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--out``, ``--csv``, ``--force``, ``--no-progress``, ``--fov`` and every stage's options."""
    parser.add_argument("--out", metavar="VIDEO", help="annotated video (.mp4/.mkv/.avi) or image (.png/.jpg) to write")
    parser.add_argument(
        "--csv",
        metavar="CSV",
        help="long-form landmark CSV to write (with --hands/--face also NAME.hands_face.csv, docs/takes.md)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--fov",
        type=float,
        metavar="DEG",
        help="camera horizontal field of view in degrees, for metric 3D (default 60)",
    )
    add_feature_options(parser)


def spec_from_args(args: argparse.Namespace, base: PipelineSpec | None = None, recorder: bool = False) -> PipelineSpec:
    """The effective spec: ``base`` (default :class:`PipelineSpec()`), then ``--config``, then
    each option given. ``recorder``: the take output is a key-toggled recorder (live).
    Raises ConfigError / InputError with a one-line message."""
    spec = base or PipelineSpec()
    if getattr(args, "config", None) is not None:
        spec = load_spec(args.config, spec)
    if getattr(args, "fov", None) is not None:
        spec = replace(spec, camera=replace(spec.camera, fov=float(args.fov)))
    if getattr(args, "out", None) is not None:
        spec = spec.with_output(VideoOutput(args.out))
    if getattr(args, "csv", None) is not None:
        spec = spec.with_output(CsvOutput(args.csv))
    for module in OPTION_MODULES:
        if module is feat_take:
            spec = feat_take.apply(args, spec, recorder=recorder)
        else:
            spec = module.apply(args, spec)
    if getattr(args, "vmc_expressions", None) not in (None, "off") and not spec.estimator.face:
        raise ConfigError("--vmc-expressions names the face's expressions: add --face or --holistic to track the face")
    return spec


def with_mode(spec: PipelineSpec, mode: RunningMode) -> PipelineSpec:
    return replace(spec, estimator=replace(spec.estimator, mode=mode))


def print_config(spec: PipelineSpec) -> int:
    """``--print-config``: the spec as TOML on stdout."""
    sys.stdout.write(spec_to_toml(spec))
    return 0


@dataclass
class RunSummary:
    frames: int = 0
    frames_with_person: int = 0
    seconds: float = 0.0
    error: ArposeError | None = None
    interrupted: str | None = None
    stats: object | None = None


def drive(pipeline: Pipeline, source, progress: bool = True, desc: str = "arpose", on_frame=None) -> RunSummary:
    """Run ``source`` through ``pipeline`` on the pipelined runtime; always closes both.

    The running mode comes from the pipeline's spec: LIVE keeps only the newest frame at each
    hand-off (a file is then paced by its timestamps); VIDEO and IMAGE process every frame.
    An :class:`ArposeError` raised by the source part-way (a truncated video) is kept in the
    summary after the outputs are closed, so the frames done are saved; the caller decides
    what to report. Ctrl-C or SIGTERM stop cleanly; ``interrupted`` then names the signal.
    """
    from tqdm import tqdm

    from ..runtime import LiveRuntime, RuntimeConfig

    summary = RunSummary()
    spec = pipeline.spec or PipelineSpec()
    live = spec.estimator.mode is RunningMode.LIVE
    bar = tqdm(
        total=source.frame_count,
        unit="frame",
        desc=desc,
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
    )

    def tick(pf, image) -> bool | None:
        summary.frames += 1
        summary.frames_with_person += bool(pf.people)
        bar.update(1)
        return on_frame(pf, image) if on_frame is not None else None

    config = RuntimeConfig(drop_frames=live, realtime=live and getattr(source, "kind", "") != "camera")
    runtime = LiveRuntime(source, pipeline, on_frame=tick, config=config)
    try:
        stats = runtime.run()
    finally:
        bar.close()
    summary.seconds = stats.seconds
    summary.error = stats.error
    summary.interrupted = getattr(stats, "interrupted", None)
    summary.stats = stats
    return summary


#: Exit codes of a run stopped by a signal (the shell's 128 + signal number).
INTERRUPTED_EXIT = {"SIGINT": 130, "SIGTERM": 143}


def interrupted_exit(stats) -> int:
    """0 for a run that ended by itself (or by the quit key); 130 / 143 for one stopped by
    Ctrl-C / SIGTERM, after saying so on stderr (its outputs were closed and kept)."""
    sig = getattr(stats, "interrupted", None)
    if sig is None:
        return 0
    analysed = getattr(stats, "analyzed", 0)
    print(f"arpose: interrupted by {sig}; every output closed with the {analysed} frames analysed", file=sys.stderr)
    return INTERRUPTED_EXIT.get(sig, 130)


def output_lines(pipeline: Pipeline) -> list[str]:
    """One line per output that has something to say after a run: datagrams sent, each file
    written (frames, and "partial" when the run was cut short) or not written (no frames),
    takes recorded with the record key, the BVH."""
    from ..broadcast import RawOscSink, VmcSink
    from ..record.bvh_sink import BvhSink
    from ..record.take import TakeRecorder

    lines = []
    for sink in file_sinks(pipeline):
        result = getattr(sink, "result", None)
        if isinstance(sink, VmcSink):
            lines.append(feat_osc.summary_line(sink, f"--vmc {sink.host}:{sink.port}"))
        elif isinstance(sink, RawOscSink):
            lines.append(feat_osc.summary_line(sink, f"--osc {sink.host}:{sink.port}"))
        elif isinstance(sink, TakeRecorder):
            if sink.finished:
                lines.append("takes: " + ", ".join(str(p) for p in sink.finished))
        elif isinstance(sink, BvhSink):
            if sink.written is not None:
                path, pid, out = sink.written
                lines.append(f"wrote {path} (person {pid}, {len(out)} frames at {sink.rate:.4g} fps)")
        elif result is not None:
            lines.append(result.describe())
            extra = getattr(getattr(sink, "hands_face", None), "result", None)  # --csv's NAME.hands_face.csv
            if extra is not None:
                lines.append(extra.describe())
    return lines


def file_sinks(pipeline: Pipeline) -> list:
    """Every sink of ``pipeline``, with the outputs fed by the zero-lag smoother
    (:class:`~arpose.smooth.SmoothedOutputs`) in its place."""
    from ..smooth import SmoothedOutputs

    out: list = []
    for sink in pipeline.sinks:
        out.extend(sink.sinks if isinstance(sink, SmoothedOutputs) else [sink])
    return out


def retarget_stage(pipeline: Pipeline):
    """The retargeting stage whose bodies reach the file outputs: the zero-lag branch's when
    there is one, else the pipeline's own (None without retargeting)."""
    from ..smooth import SmoothedOutputs

    branch = next((s for s in pipeline.sinks if isinstance(s, SmoothedOutputs)), None)
    stage = branch.stage("retarget") if branch is not None else None
    return stage if stage is not None else pipeline.stage("retarget")


def report(pipeline: Pipeline, args: argparse.Namespace) -> None:
    """Print :func:`output_lines` and, with ``--retarget-stats``, the retargeting summary."""
    for line in output_lines(pipeline):
        print(line, file=sys.stderr)
    stage = retarget_stage(pipeline)
    if getattr(args, "retarget_stats", False) and stage is not None:
        print(feat_retarget.format_stats(stage.summary()), file=sys.stderr)
