"""Batch processing: folders of video into takes, BVH and CSVs, on one machine or a Ray cluster.

``arpose batch INPUTS... --out DIR`` (docs/batch.md). From Python::

    from arpose.batch import BatchOptions, PoolBackend, plan_batch, run_batch

    plan = plan_batch(["footage/"], BatchOptions(out_dir=Path("takes")))
    summary = run_batch(plan, PoolBackend())          # or RayBackend("auto")
    print(summary.ok, summary.count("failed"))

Modules: :mod:`.inputs` (which videos, folder names), :mod:`.manifest` (the resumable
record), :mod:`.plan` (options, jobs and what to do with each), :mod:`.tasks` (what a worker
runs), :mod:`.backends` (process pool, Ray), :mod:`.run` (the coordinator). Nothing heavy is
imported until it is used.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "BatchOptions": ".plan",
    "BatchPlan": ".plan",
    "Job": ".plan",
    "plan_batch": ".plan",
    "decide": ".plan",
    "split_layout": ".plan",
    "Record": ".manifest",
    "read_manifest": ".manifest",
    "find_videos": ".inputs",
    "assign_names": ".inputs",
    "PoolBackend": ".backends",
    "RayBackend": ".backends",
    "run_batch": ".run",
    "BatchSummary": ".run",
    "Outcome": ".run",
    "run_task": ".tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
