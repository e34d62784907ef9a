"""Batch throughput, for ``arpose bench --batch``: the same videos through the process pool
and through Ray, with 1 and 2 workers (or any counts), and what one job costs beyond its
frames, from which a cluster of any size can be projected.

Measured per run: wall time of the whole batch (backend start-up included) and the busy
time from the first task handed out to the last result in; videos and frames per second
over the busy time. Per job: the frame loop's time per frame, and the overhead beyond it:
in the worker (building the pipeline, MediaPipe's graph start-up, closing and publishing the
outputs) and outside it (handing the task over and the result back: the time from submit to
result less the worker's own time). The coordinator's CPU time per job bounds how many jobs
one coordinator can hand out per second.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

from .plan import BatchOptions, plan_batch
from .run import TaskEnded, TaskStarted, run_batch


def measure(inputs: Iterable[str], backend: Any, label: str) -> dict[str, Any]:
    """One batch of ``inputs`` on ``backend`` into a temporary folder (removed afterwards)."""
    out = Path(tempfile.mkdtemp(prefix="arpose-bench-batch-"))
    try:
        plan = plan_batch(list(inputs), BatchOptions(out_dir=out / "out"))
        starts: dict[str, float] = {}
        spans: dict[str, float] = {}
        first: list[float] = []
        last: list[float] = []

        def on_event(event: object) -> None:
            now = time.perf_counter()
            if isinstance(event, TaskStarted):
                starts[event.key] = now
                if not first:
                    first.append(now)
            elif isinstance(event, TaskEnded) and event.result is not None:
                spans[event.key] = now - starts[event.key]
                last[:] = [now]

        cpu0 = time.process_time()
        summary = run_batch(plan, backend, on_event=on_event)
        cpu = time.process_time() - cpu0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    results = [r for r in summary.results if r.ok]
    busy = (last[0] - first[0]) if first and last else float("nan")
    frames = sum(r.frames for r in results)
    loop = sum(r.loop_s for r in results)
    processed = sum(r.processed for r in results)
    in_worker = [r.seconds - r.loop_s for r in results]
    handoff = [spans[r.key] - r.seconds for r in results if r.key in spans]
    threads = results[0].threads if results else {}
    return {
        "backend": label,
        "workers": backend.workers,
        "videos": len(results),
        "failed": summary.count("failed"),
        "frames": frames,
        "seconds": summary.seconds,
        "busy_seconds": busy,
        "videos_per_s": len(results) / busy if busy > 0 else float("nan"),
        "fps": frames / busy if busy > 0 else float("nan"),
        "frame_ms": 1000.0 * loop / processed if processed else float("nan"),
        "job_overhead_in_worker_s": statistics.median(in_worker) if in_worker else float("nan"),
        "job_overhead_handoff_s": statistics.median(handoff) if handoff else float("nan"),
        "coordinator_cpu_per_job_ms": 1000.0 * cpu / max(1, len(results)),
        "worker_threads": threads,
        "pinned": results[0].pinned if results else {},
    }


def project(run: dict[str, Any], nodes: int = 100, cores: int = 2, video_frames: int = 1800) -> dict[str, Any]:
    """A cluster of ``nodes`` nodes of ``cores`` workers from one run's per-job figures: a job
    of ``video_frames`` frames costs ``frames x frame_ms + overhead`` on one worker, every
    worker runs jobs back to back, and one coordinator hands out at most
    ``1000 / coordinator_cpu_per_job_ms`` jobs a second. Returns videos and frames per second
    and which of the two limits it."""
    per_job = video_frames * run["frame_ms"] / 1000.0 + run["job_overhead_in_worker_s"] + run["job_overhead_handoff_s"]
    workers = nodes * cores
    compute = workers / per_job
    coordinator = 1000.0 / run["coordinator_cpu_per_job_ms"] if run["coordinator_cpu_per_job_ms"] > 0 else float("inf")
    videos = min(compute, coordinator)
    return {
        "nodes": nodes,
        "cores_per_node": cores,
        "video_frames": video_frames,
        "job_seconds": per_job,
        "overhead_share": 1.0 - video_frames * run["frame_ms"] / 1000.0 / per_job,
        "videos_per_s": videos,
        "fps": videos * video_frames,
        "limit": "workers" if compute <= coordinator else "coordinator",
        "coordinator_jobs_per_s": coordinator,
    }
