"""The coordinating process of a batch: it turns the plan's jobs into tasks, hands them to a
backend, writes the manifest (it is its only writer) and reports events to the caller.

Each job is one task (a whole video), or with ``--split-minutes`` one task per segment and
then a stitch task once every segment is done. A task whose worker dies is run once more
(its ``attempt`` goes up); a second loss fails the job. Tasks are handed out longest first,
so a long video does not start last and hold up the end of the batch.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import OutputError
from .manifest import MANIFEST_NAME, ManifestWriter, Record
from .plan import BatchPlan, Job, segment_take, work_dir
from .tasks import SegmentTask, StitchTask, Task, TaskResult, VideoTask

#: Runs of a task whose worker died before a job fails ("worker process died ...").
MAX_ATTEMPTS = 2


@dataclass(frozen=True)
class Outcome:
    """How one job ended in this run. status: ``done``, ``failed``, ``skipped`` (finished
    earlier), ``kept-failed`` (failed earlier, not retried), ``changed`` (finished earlier on
    another input or settings, not redone without ``--force``) or ``interrupted``."""

    job: Job
    status: str
    frames: int = 0
    seconds: float = 0.0
    error: str | None = None


# Events for the caller (progress display). ------------------------------------------


@dataclass(frozen=True)
class BatchStarted:
    jobs: int
    to_run: int
    frames: int
    backend: str


@dataclass(frozen=True)
class TaskStarted:
    key: str
    label: str
    frames: int | None
    attempt: int


@dataclass(frozen=True)
class TaskProgress:
    key: str
    frames: int
    worker: str


@dataclass(frozen=True)
class TaskEnded:
    key: str
    result: TaskResult | None
    lost: str | None = None


@dataclass(frozen=True)
class JobEnded:
    outcome: Outcome


@dataclass
class BatchSummary:
    """Every job's :class:`Outcome`, the wall time, the task results (for ``bench``), and
    the signal that stopped the batch early (``"SIGINT"``, ``"SIGTERM"``) or None."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: str | None = None
    results: list[TaskResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every job is finished (now or before)."""
        return not self.interrupted and all(o.status in ("done", "skipped") for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def frames(self) -> int:
        """Frames in the jobs finished by this run."""
        return sum(o.frames for o in self.outcomes if o.status == "done")


class BatchLock:
    """Only one batch at a time writes into a folder: an exclusive lock on
    ``DIR/.arpose-batch/lock`` (``fcntl.flock`` on Unix, ``msvcrt.locking`` on Windows),
    released when the process ends, however it ends. Raises :class:`OutputError` if held."""

    def __init__(self, out_dir: Path) -> None:
        self.path = work_dir(out_dir) / "lock"
        self._fh: Any = None

    def __enter__(self) -> "BatchLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            try:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # Windows
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise OutputError(
                f"another arpose batch ({holder}) is writing into {self.path.parent.parent}; wait for it to end"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@dataclass
class _JobState:
    job: Job
    out_dir: Path
    done: set[int] = field(default_factory=set)
    seconds: float = 0.0
    failed: str | None = None
    stitching: bool = False
    ended: bool = False


def _task_work(task: Task) -> int:
    """Frames the estimator runs for a task (how much work it is; 0 for a stitch)."""
    if isinstance(task, SegmentTask):
        s = task.segment
        end = s.end if s.end is not None else (task.frames or s.start)
        return max(0, end - s.warmup_from)
    if isinstance(task, VideoTask):
        return task.frames or 0
    return 0


def _label(task: Task) -> str:
    if isinstance(task, SegmentTask):
        return f"{task.name} part {task.segment.index + 1}/{task.segment.count}"
    if isinstance(task, StitchTask):
        return f"{task.name} stitch"
    return task.name


def _prepare_folders(plan: BatchPlan) -> None:
    """Empty the trash, remove what interrupted runs left of the jobs about to run."""
    out = plan.options.out_dir
    shutil.rmtree(work_dir(out) / "trash", ignore_errors=True)
    for job in plan.to_run:
        folder = work_dir(out) / "work" / job.name
        if not folder.is_dir():
            continue
        keep = {segment_take(out, job.name, k).name for k in job.segments_done}
        for item in folder.iterdir():
            if item.name in keep:
                continue
            if item.is_dir():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)


def _clean_work(out: Path, name: str) -> None:
    """Remove the output folders a job's killed attempts left in its work folder (finished
    segment takes stay for a rerun), and the work folder if that empties it."""
    folder = work_dir(out) / "work" / name
    if not folder.is_dir():
        return
    for item in folder.glob("out-*"):
        shutil.rmtree(item, ignore_errors=True)
    try:
        folder.rmdir()
    except OSError:
        pass  # segment takes are still there


def run_batch(
    plan: BatchPlan,
    backend: Any,
    on_event: Callable[[object], None] | None = None,
    stop: threading.Event | None = None,
) -> BatchSummary:
    """Run every job of ``plan`` that needs running on ``backend`` (started and closed here);
    returns the :class:`BatchSummary`. ``on_event`` gets :class:`BatchStarted`,
    :class:`TaskStarted`, :class:`TaskProgress`, :class:`TaskEnded` and :class:`JobEnded`
    events on this thread. ``stop`` set (or Ctrl-C) ends the batch early: running tasks are
    stopped, their jobs stay ``running`` in the manifest and the next run redoes them.
    Raises :class:`OutputError` if the output folder or manifest cannot be written, or
    another batch holds it.
    """
    emit = on_event or (lambda event: None)
    opts = plan.options
    out = opts.out_dir
    summary = BatchSummary()
    t0 = time.perf_counter()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {out} ({exc.strerror})") from None
    with BatchLock(out), ManifestWriter(out / MANIFEST_NAME) as manifest:
        _prepare_folders(plan)
        states: dict[str, _JobState] = {}
        queue: list[tuple[Task, int]] = []
        early: list[tuple[_JobState | None, Outcome | None]] = []
        for job in plan.jobs:
            action = job.decision.action
            if action != "run":
                status = {"skip": "skipped", "failed": "kept-failed", "changed": "changed"}[action]
                early.append((None, Outcome(job, status, error=job.decision.reason if action != "skip" else None)))
                continue
            state = states[job.name] = _JobState(job, out, done=set(job.segments_done))
            if job.error is not None:  # it could not even be opened
                _record(manifest, plan, job, "failed", error=job.error)
                early.append((state, None))
                continue
            queue += [(t, 1) for t in _first_tasks(plan, job)]
        queue.sort(key=lambda item: -_task_work(item[0]))
        total = sum(_task_work(t) for t, _ in queue)
        started = bool(queue)
        if started:
            backend.start()
        emit(BatchStarted(len(plan.jobs), len(states), total, backend.describe()))
        for state, oc in early:
            if state is None:
                summary.outcomes.append(oc)
                emit(JobEnded(oc))
            else:
                _end(state, summary, emit, "failed", error=state.job.error)
        running: dict[str, tuple[Task, int]] = {}
        try:
            if getattr(backend, "name", "") == "ray":
                probe = work_dir(out) / "shared-check"
                probe.write_text("arpose batch: every Ray node must see this folder\n")
                backend.check_shared(str(probe))
            while queue or running:
                if stop is not None and stop.is_set():
                    raise KeyboardInterrupt
                while queue and backend.capacity > 0:
                    task, attempt = queue.pop(0)
                    job = states[task.name].job
                    seg = task.segment.as_dict() if isinstance(task, SegmentTask) else None
                    _record(manifest, plan, job, "running", segment=seg, attempt=attempt)
                    running[task.key] = (task, attempt)
                    backend.submit(task.key, task)
                    emit(TaskStarted(task.key, _label(task), task.frames, attempt))
                for event in backend.poll(0.2):
                    _handle(event, plan, manifest, states, queue, running, summary, emit)
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM raised as its subclass by the CLI
            summary.interrupted = getattr(exc, "signal_name", "SIGINT")
            if started:
                backend.close(kill=True)
            for state in states.values():
                if not state.ended:
                    _end(state, summary, emit, "interrupted")
        except BaseException:
            if started:
                backend.close(kill=True)
            raise
        else:
            if started:
                backend.close()
    summary.seconds = time.perf_counter() - t0
    order = {j.name: i for i, j in enumerate(plan.jobs)}
    summary.outcomes.sort(key=lambda o: order[o.job.name])
    return summary


def _first_tasks(plan: BatchPlan, job: Job) -> list[Task]:
    opts = plan.options
    common = dict(input=str(job.input), name=job.name, out_dir=str(opts.out_dir), spec=opts.spec, frames=job.frames)
    if not job.segments:
        return [VideoTask(key=job.name, video=opts.video, replace=job.decision.replace, **common)]
    todo = [s for s in job.segments if s.index not in job.segments_done]
    if not todo:
        return [_stitch_task(plan, job)]
    return [SegmentTask(key=f"{job.name}#{s.index}", segment=s, **common) for s in todo]


def _stitch_task(plan: BatchPlan, job: Job) -> StitchTask:
    opts = plan.options
    return StitchTask(
        key=f"{job.name}#stitch",
        input=str(job.input),
        name=job.name,
        out_dir=str(opts.out_dir),
        spec=opts.spec,
        segments=job.segments,
        video=opts.video,
        replace=job.decision.replace,
        frames=job.frames,
    )


def _record(
    manifest: ManifestWriter,
    plan: BatchPlan,
    job: Job,
    status: str,
    *,
    frames: int = 0,
    seconds: float = 0.0,
    error: str | None = None,
    segment: dict | None = None,
    attempt: int = 1,
    worker: str = "",
) -> None:
    manifest.append(
        Record(
            input=str(job.input),
            name=job.name,
            size=job.size,
            mtime_ns=job.mtime_ns,
            settings=plan.settings,
            status=status,
            frames=frames,
            seconds=round(seconds, 3),
            error=error,
            segment=segment,
            attempt=attempt,
            worker=worker,
        )
    )


def _end(state: _JobState, summary: BatchSummary, emit, status: str, frames: int = 0, error: str | None = None) -> None:
    state.ended = True
    if status != "interrupted":
        _clean_work(state.out_dir, state.job.name)
    oc = Outcome(state.job, status, frames=frames, seconds=state.seconds, error=error)
    summary.outcomes.append(oc)
    emit(JobEnded(oc))


def _handle(event, plan, manifest, states, queue, running, summary, emit) -> None:
    from .backends import Lost, Progress

    if isinstance(event, Progress):
        if event.key in running:
            emit(TaskProgress(event.key, event.frames, event.worker))
        return
    task, attempt = running.pop(event.key)
    state: _JobState = states[task.name]
    job = state.job
    seg = task.segment.as_dict() if isinstance(task, SegmentTask) else None
    if isinstance(event, Lost):
        emit(TaskEnded(event.key, None, lost=event.reason))
        if attempt < MAX_ATTEMPTS and state.failed is None:
            queue.insert(0, (task, attempt + 1))
            return
        result = TaskResult(key=task.key, ok=False, error=f"{event.reason} while running it", worker=event.worker)
    else:
        result = event.result
        emit(TaskEnded(event.key, result))
    summary.results.append(result)
    state.seconds += result.seconds
    if isinstance(task, SegmentTask):
        status = "done" if result.ok else "failed"
        _record(
            manifest,
            plan,
            job,
            status,
            frames=result.frames,
            seconds=result.seconds,
            error=result.error,
            segment=seg,
            attempt=attempt,
            worker=result.worker,
        )
        if not result.ok:
            if state.failed is None:
                state.failed = f"part {task.segment.index + 1}/{task.segment.count}: {result.error}"
                queue[:] = [(t, a) for t, a in queue if t.name != job.name]  # its other parts are not needed now
        else:
            state.done.add(task.segment.index)
        busy = any(t.name == job.name for t, _ in running.values())
        if state.failed is not None and not busy and not state.ended:
            _record(manifest, plan, job, "failed", seconds=state.seconds, error=state.failed, attempt=attempt)
            _end(state, summary, emit, "failed", error=state.failed)
        elif state.failed is None and len(state.done) == len(job.segments) and not state.stitching:
            state.stitching = True
            queue.insert(0, (_stitch_task(plan, job), 1))
        return
    status = "done" if result.ok else "failed"
    _record(
        manifest,
        plan,
        job,
        status,
        frames=result.frames,
        seconds=state.seconds,
        error=result.error,
        attempt=attempt,
        worker=result.worker,
    )
    _end(state, summary, emit, status, frames=result.frames, error=result.error)
