"""``arpose batch INPUTS... --out DIR``: many videos into takes, BVH and CSVs, in parallel on
this machine (a process per core) or on a Ray cluster (``--ray``). See docs/batch.md."""

from __future__ import annotations

import argparse
import sys

from .runner import add_feature_options, print_config, spec_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="many videos into takes, BVH and CSVs, in parallel (local processes or Ray)",
        description="Process every video in INPUTS (files, folders searched recursively, globs) into "
        "DIR/<name>/: a take, a BVH, a landmark CSV and a joint-angle CSV (and the annotated video with "
        "--video). Resumable: DIR/manifest.jsonl records every job, a rerun skips finished ones. "
        "Exit code 0 when every video is done, 1 when some failed, 2 for bad arguments.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders (searched recursively) or globs")
    p.add_argument("--out", dest="out_dir", required=True, metavar="DIR", help="output folder (one folder per video)")
    p.add_argument("--video", action="store_true", help="also write each video annotated (<name>.annotated.mp4)")
    p.add_argument("--retry", action="store_true", help="run the jobs that failed in an earlier run again")
    p.add_argument(
        "--force",
        action="store_true",
        help="redo finished jobs whose input or settings changed, and replace output folders this batch did not make",
    )
    p.add_argument(
        "--workers", type=int, metavar="N", help="jobs at once (default: one per CPU; with --ray the cluster's CPUs)"
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run the jobs as Ray tasks (pip install 'arpose[ray]'): alone, a local Ray instance; 'auto' the "
        "cluster this machine joined with 'ray start'; HOST:PORT a head node; ray://HOST:10001 Ray Client. "
        "--out must be a folder every node sees at the same path",
    )
    p.add_argument(
        "--split-minutes",
        type=float,
        metavar="N",
        help="cut videos longer than N minutes into segments processed in parallel, stitched back into one result",
    )
    p.add_argument(
        "--split-overlap",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="seconds each segment runs before its first kept frame, so tracking has settled at the seam (default 2)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars: one log line per finished video")
    p.add_argument("--fov", type=float, metavar="DEG", help="camera horizontal field of view in degrees (default 60)")
    add_feature_options(p)
    p.set_defaults(func=run)


def batch_spec(args: argparse.Namespace):
    """The pipeline settings every video gets: the feature options and ``--config`` over the
    batch defaults (:func:`arpose.batch.plan.batch_default_spec`: one LiteRT thread per
    worker) with a per-video BVH, so --bvh-person and --bvh-origin apply."""
    from dataclasses import replace

    from ..batch.plan import PER_VIDEO, batch_default_spec
    from ..spec import BvhOutput

    return spec_from_args(args, base=replace(batch_default_spec(), outputs=(BvhOutput(PER_VIDEO),)))


def make_backend(args: argparse.Namespace):
    from ..batch.backends import PoolBackend, RayBackend

    if args.ray is not None:
        return RayBackend(None if args.ray == "local" else args.ray, workers=args.workers)
    return PoolBackend(args.workers)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..batch.plan import BatchOptions, plan_batch
    from ..batch.run import run_batch

    spec = batch_spec(args)
    if args.print_config:
        return print_config(spec.validate())
    options = BatchOptions(
        out_dir=Path(args.out_dir),
        spec=spec,
        video=args.video,
        retry=args.retry,
        force=args.force,
        split_minutes=args.split_minutes,
        split_overlap=args.split_overlap,
    ).validate()
    backend = make_backend(args)
    plan = plan_batch(args.inputs, options)
    display = Display(progress=not args.no_progress)
    try:
        summary = run_batch(plan, backend, on_event=display.event)
    finally:
        display.close()
    sys.stdout.write(summary_table(summary, backend.describe()))
    if summary.interrupted:
        print(f"arpose: interrupted by {summary.interrupted}; rerun the same command to finish", file=sys.stderr)
        return 143 if summary.interrupted == "SIGTERM" else 130
    return 0 if summary.ok else 1


class Display:
    """The overall bar (frames and videos done, fps, ETA) and one status line per running
    task; or, with ``progress`` off, one log line per finished video."""

    def __init__(self, progress: bool = True) -> None:
        self.progress = progress
        self.bar = None
        self.lines: list = []
        self.tasks: dict[str, dict] = {}
        self.videos = 0
        self.done = 0

    def _log(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def event(self, event: object) -> None:
        from ..batch.run import BatchStarted, JobEnded, TaskEnded, TaskProgress, TaskStarted

        if isinstance(event, BatchStarted):
            self.videos = event.to_run
            self._log(
                f"arpose batch: {event.jobs} video{'s' if event.jobs != 1 else ''}, {event.to_run} to process "
                f"({event.frames} frames) on {event.backend}"
            )
            if self.progress and event.to_run:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=event.frames or None,
                    unit="frame",
                    desc="batch",
                    file=sys.stderr,
                    dynamic_ncols=True,
                    position=0,
                )
                self._postfix()
        elif isinstance(event, TaskStarted):
            self.tasks[event.key] = {"label": event.label, "frames": 0, "total": event.frames, "worker": ""}
            self._show()
        elif isinstance(event, TaskProgress):
            task = self.tasks.get(event.key)
            if task is not None:
                if self.bar is not None and not task["label"].endswith("stitch"):
                    self.bar.update(max(0, event.frames - task["frames"]))
                task["frames"], task["worker"] = event.frames, event.worker
                self._show()
        elif isinstance(event, TaskEnded):
            task = self.tasks.pop(event.key, None)
            if event.lost and task is not None:
                self._log(f"  {task['label']}: {event.lost}; running it again")
                if self.bar is not None and not task["label"].endswith("stitch"):
                    self.bar.update(-task["frames"])  # its frames are done again
            self._show()
        elif isinstance(event, JobEnded):
            oc = event.outcome
            if oc.status in ("done", "failed"):
                self.done += 1
                if oc.status == "done":
                    self._log(f"  done   {oc.job.name} ({oc.frames} frames, {oc.seconds:.1f} s)")
                else:
                    self._log(f"  FAILED {oc.job.name}: {oc.error}")
                self._postfix()

    def _postfix(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"videos {self.done}/{self.videos}", refresh=True)

    def _show(self) -> None:
        """One line per running task under the overall bar (worker, video, frames)."""
        if self.bar is None:
            return
        from tqdm import tqdm

        rows = list(self.tasks.values())
        while len(self.lines) < len(rows):
            self.lines.append(
                tqdm(total=0, position=len(self.lines) + 1, bar_format="{desc}", file=sys.stderr, leave=False)
            )
        for i, line in enumerate(self.lines):
            if i < len(rows):
                r = rows[i]
                total = f"/{r['total']}" if r["total"] and not r["label"].endswith("stitch") else ""
                worker = f"[{r['worker']}] " if r["worker"] else ""
                line.set_description_str(f"  {worker}{r['label']}: {r['frames']}{total} frames", refresh=True)
            else:
                line.set_description_str("", refresh=True)

    def close(self) -> None:
        for line in self.lines:
            line.close()
        if self.bar is not None:
            self.bar.close()
        self.lines, self.bar = [], None


def summary_table(summary, backend: str) -> str:
    """One row per video (name, status, frames, seconds, fps, error) and a totals line."""
    rows = [("video", "status", "frames", "seconds", "fps", "error")]
    for oc in summary.outcomes:
        fps = f"{oc.frames / oc.seconds:.1f}" if oc.status == "done" and oc.seconds > 0 else ""
        rows.append(
            (
                oc.job.name,
                oc.status,
                str(oc.frames) if oc.status == "done" else "",
                f"{oc.seconds:.1f}" if oc.seconds else "",
                fps,
                oc.error or "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])] + [r[i].rjust(widths[i]) for i in (2, 3, 4)]
        lines.append("  ".join(cells + [r[5]]).rstrip())
    counts = {s: summary.count(s) for s in ("done", "skipped", "failed", "kept-failed", "changed", "interrupted")}
    said = {
        "done": "done",
        "skipped": "finished before",
        "failed": "failed",
        "kept-failed": "failed before (--retry runs them)",
        "changed": "changed since they finished (--force redoes them)",
        "interrupted": "interrupted",
    }
    parts = [f"{n} {said[s]}" for s, n in counts.items() if n]
    rate = summary.frames / summary.seconds if summary.seconds > 0 else 0.0
    n = len(summary.outcomes)
    lines.append(
        f"{n} video{'s' if n != 1 else ''}: {', '.join(parts) or 'nothing to do'}; {summary.frames} frames in "
        f"{summary.seconds:.1f} s ({rate:.1f} fps) on {backend}"
    )
    return "\n".join(lines) + "\n"
