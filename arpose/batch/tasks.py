"""What a worker runs: one video, one segment of a split video, or the stitch of a split
video's segments. The same functions run in the local process pool and as Ray tasks, so the
outputs are the same whichever backend ran them.

Every task writes only inside the batch's work folder (``DIR/.arpose-batch/work/<name>/``):
a video's outputs go to a fresh ``out-<token>/`` folder through the pipeline's own file
outputs (each written as ``NAME.partial.EXT`` and renamed when complete), and only when every
output is complete does that folder become ``DIR/<name>/``, in one rename
(:func:`publish_folder`). A task killed at any point leaves nothing under ``DIR/<name>/`` that
looks finished. Frames are processed strictly in order on one thread; the unit of
parallelism is the video (or the segment).

A task never raises for a bad video: a corrupt, truncated or unreadable input, or a video in
which no body was found, is a failed :class:`TaskResult` with a one-line error.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import ArposeError, InputError, OutputError
from ..spec import PipelineSpec
from .plan import SegmentLayout, job_spec, segment_take, work_dir

#: Seconds between progress reports from a running task.
REPORT_INTERVAL = 0.25
#: Environment variables that cap the thread pools of BLAS / OpenMP libraries loaded later.
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

Report = Callable[[int], None]


@dataclass(frozen=True)
class VideoTask:
    """One whole video into ``out_dir/name/``. replace: an existing ``out_dir/name/`` may be
    replaced (the batch made it, or ``--force``)."""

    key: str
    input: str
    name: str
    out_dir: str
    spec: PipelineSpec
    video: bool = False
    replace: bool = False
    frames: int | None = None


@dataclass(frozen=True)
class SegmentTask:
    """Frames ``segment.start`` to ``segment.end`` of a video as a take of the estimator's
    raw results (``segment_take``), the estimator started at ``segment.warmup_from``."""

    key: str
    input: str
    name: str
    out_dir: str
    spec: PipelineSpec
    segment: SegmentLayout
    frames: int | None = None


@dataclass(frozen=True)
class StitchTask:
    """The segments' takes joined into one video's outputs in ``out_dir/name/``: identity
    tracking, smoothing, retargeting and every output run once over the joined estimates, so
    none of them restarts at a seam."""

    key: str
    input: str
    name: str
    out_dir: str
    spec: PipelineSpec
    segments: tuple[SegmentLayout, ...]
    video: bool = False
    replace: bool = False
    frames: int | None = None


Task = VideoTask | SegmentTask | StitchTask


@dataclass(frozen=True)
class TaskResult:
    """How a task ended. ok: finished and published. frames: frames kept (in its outputs);
    processed: frames run through the estimator or the stages (with warm-up frames);
    seconds: wall time in the worker; setup_s / loop_s / close_s: building the pipeline
    (MediaPipe's graph start-up included), the frame loop, closing and publishing. error: one
    line. worker: ``host:pid``. threads: the worker's threads by name when the loop ended (on
    Linux), e.g. MediaPipe's own executor threads. pinned: what :func:`pin_worker` set."""

    key: str
    ok: bool
    frames: int = 0
    processed: int = 0
    seconds: float = 0.0
    setup_s: float = 0.0
    loop_s: float = 0.0
    close_s: float = 0.0
    error: str | None = None
    worker: str = ""
    threads: dict[str, int] = field(default_factory=dict)
    pinned: dict[str, Any] = field(default_factory=dict)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_PINNED: dict[str, Any] = {}
_LIMITS: list[Any] = []


def pin_worker(core: int | None = None) -> dict[str, Any]:
    """Hold this worker process to one thread of work where the libraries allow it; returns
    what was set (also kept for :attr:`TaskResult.pinned`). Call it first in a worker.

    * BLAS / OpenMP: :data:`THREAD_ENV` set to 1 for libraries loaded later, and
      ``threadpoolctl.threadpool_limits(1)`` for those already loaded (NumPy's OpenBLAS).
    * OpenCV: ``cv2.setNumThreads(1)``.
    * core: the process (all its threads, MediaPipe's included) is bound to that CPU with
      ``os.sched_setaffinity`` where the platform has it.

    MediaPipe's classic graph cannot be pinned from Python: it starts its own executor
    threads (one per CPU the machine has), and its XNNPACK inference already runs on one
    thread on desktop Linux. The affinity (pool workers) is what keeps them on one core.
    """
    for name in THREAD_ENV:
        os.environ[name] = "1"
    info: dict[str, Any] = {"env": "1"}
    if core is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {core})
            info["cpu"] = core
        except OSError:
            info["cpu"] = None
    from threadpoolctl import threadpool_limits

    if not _LIMITS:
        _LIMITS.append(threadpool_limits(1))
    from .._cv import cv2

    cv2.setNumThreads(1)
    info["cv2_threads"] = cv2.getNumThreads()
    _PINNED.clear()
    _PINNED.update(info)
    return info


def thread_names() -> dict[str, int]:
    """This process's threads counted by name (Linux ``/proc``; empty elsewhere). Numbers in
    names (``mediapipe/1234``) are dropped so threads of one kind count together."""
    import re

    out: dict[str, int] = {}
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/comm") as fh:
                name = re.sub(r"[/:_-]?\d+$", "", fh.read().strip()) or "?"
            out[name] = out.get(name, 0) + 1
    except OSError:
        return {}
    return out


# ------------------------------------------------------------------------------ helpers


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, ArposeError):
        return text or type(exc).__name__
    return f"internal error {type(exc).__name__}: {text}"[:500]


def _staging(task: Task) -> Path:
    """A fresh folder for the task's outputs, inside the job's work folder."""
    folder = work_dir(Path(task.out_dir)) / "work" / task.name / f"out-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    return folder


def publish_folder(staging: Path, final: Path, replace: bool) -> None:
    """Move the complete ``staging`` folder to ``final`` in one rename. ``replace``: an
    existing ``final`` is first moved into the batch's trash (and then deleted), so the final
    name never holds a mix of old and new files. Raises :class:`OutputError`."""
    trash = None
    if final.exists() or final.is_symlink():
        if not replace:
            raise OutputError(f"output folder {final} appeared while the job ran; use --force to replace it")
        trash = work_dir(final.parent) / "trash" / f"{final.name}-{uuid.uuid4().hex[:12]}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(final, trash)
        except OSError as exc:
            raise OutputError(f"cannot replace {final} ({exc.strerror})") from None
    try:
        os.replace(staging, final)
    except OSError as exc:
        raise OutputError(
            f"cannot move the finished outputs to {final} ({exc.strerror}); they are in {staging}"
        ) from None
    from ..record.output import fsync_path

    fsync_path(final.parent)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


class _Progress:
    """Calls ``report(frames)`` at most every :data:`REPORT_INTERVAL` seconds."""

    def __init__(self, report: Report | None) -> None:
        self.report = report
        self.frames = 0
        self._next = 0.0

    def tick(self) -> None:
        self.frames += 1
        now = time.monotonic()
        if self.report is not None and now >= self._next:
            self._next = now + REPORT_INTERVAL
            self.report(self.frames)

    def final(self) -> None:
        """Report the count now (raises if the coordinator is gone: nothing is published then)."""
        if self.report is not None:
            self.report(self.frames)


def run_task(task: Task, report: Report | None = None) -> TaskResult:
    """Run one task; never raises for a bad video (see the module doc). ``report(frames)``
    is called with the frames processed so far, a few times a second."""
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    progress = _Progress(report)
    try:
        if isinstance(task, VideoTask):
            frames = _run_video(task, progress, times)
        elif isinstance(task, SegmentTask):
            frames = _run_segment(task, progress, times)
        elif isinstance(task, StitchTask):
            frames = _run_stitch(task, progress, times)
        else:  # pragma: no cover - the coordinator makes only these
            raise TypeError(f"unknown task {task!r}")
        ok, error = True, None
    except Exception as exc:  # a bad video, or a bug: the batch goes on either way
        frames, ok = 0, False
        error = _one_line(_nothing_kept(exc) if isinstance(exc, ArposeError) else exc)
    return TaskResult(
        key=task.key,
        ok=ok,
        frames=frames,
        processed=progress.frames,
        seconds=time.perf_counter() - t0,
        setup_s=times.get("setup", 0.0),
        loop_s=times.get("loop", 0.0),
        close_s=times.get("close", 0.0),
        error=error,
        worker=worker_id(),
        threads=times.get("threads") or {},  # type: ignore[arg-type]
        pinned=dict(_PINNED),
    )


def _run_pipeline(pipeline, frames, progress: _Progress, times: dict) -> tuple[int, ArposeError | None]:
    """Every frame through ``pipeline`` in order; returns (frames, the source's error if it
    stopped early). Closes the pipeline (as partial if anything failed)."""
    n, error = 0, None
    t = time.perf_counter()
    try:
        for frame in frames:
            pipeline.emit(pipeline.analyze(frame))
            n += 1
            progress.tick()
    except ArposeError as exc:  # the source stopped part-way (a truncated video)
        error = exc
    except BaseException:
        _close_quietly(pipeline)
        raise
    finally:
        times["threads"] = thread_names()  # type: ignore[assignment]
    times["loop"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        pipeline.close(partial=error is not None)
    except ArposeError as exc:  # e.g. no body found for the BVH
        error = error or exc
    times["close"] = time.perf_counter() - t
    return n, error


def _close_quietly(pipeline) -> None:
    try:
        pipeline.close(partial=True)
    except Exception:
        pass


def _nothing_kept(error: ArposeError) -> ArposeError:
    """The error of a job that stopped part-way, without the source's note that the outputs
    hold the frames done: a failed job publishes nothing."""
    import re

    text = re.sub(r" \(outputs hold [^)]*\)$", "", str(error))
    return type(error)(text) if text != str(error) else error


def _run_video(task: VideoTask, progress: _Progress, times: dict) -> int:
    from ..build import build_pipeline, spec_for_source
    from ..source import VideoSource

    t = time.perf_counter()
    staging = _staging(task)
    try:
        source = VideoSource(task.input)
        try:
            spec = spec_for_source(job_spec(task.spec, staging, task.name, task.video), source)
            pipeline = build_pipeline(spec, source, take_header={"command": "batch"})
        except BaseException:
            source.close()
            raise
        times["setup"] = time.perf_counter() - t
        try:
            frames, error = _run_pipeline(pipeline, source, progress, times)
        finally:
            source.close()
        if error is not None:
            raise error
        t = time.perf_counter()
        progress.final()
        publish_folder(staging, Path(task.out_dir) / task.name, task.replace)
        times["close"] = times.get("close", 0.0) + time.perf_counter() - t
        return frames
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already once published


def _run_segment(task: SegmentTask, progress: _Progress, times: dict) -> int:
    """The estimator alone over the segment (warm-up frames included, not recorded); its raw
    results go to the segment's take."""
    from ..build import camera_for, make_estimator, spec_for_source
    from ..record.take import TakeWriter, take_header
    from ..source import VideoSource

    seg = task.segment
    path = segment_take(Path(task.out_dir), task.name, seg.index)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    source = VideoSource(task.input)
    writer = None
    estimator = None
    kept = 0
    try:
        spec = spec_for_source(task.spec, source)
        header = take_header(
            source=source.name,
            source_kind=source.kind,
            resolution=tuple(source.size),
            fps=source.fps,
            camera=camera_for(spec, source),
            command="batch segment",
            settings={"segment": seg.as_dict()},
        )
        writer = TakeWriter(path, header, force=True)
        estimator = make_estimator(spec)
        times["setup"] = time.perf_counter() - t
        t = time.perf_counter()
        for frame in source:
            if seg.end is not None and frame.index >= seg.end:
                break
            if frame.index < seg.warmup_from:
                continue  # decoded only: the estimator starts at warmup_from
            pf = estimator.process(frame)
            progress.tick()
            if frame.index >= seg.start:
                writer.write(pf)
                kept += 1
        times["threads"] = thread_names()
        times["loop"] = time.perf_counter() - t
        t = time.perf_counter()
        if kept == 0:
            raise InputError(f"{task.input} has no frame {seg.start} (segment {seg.index + 1} of {seg.count} is empty)")
        progress.final()
        writer.close()
        times["close"] = time.perf_counter() - t
        return kept
    except BaseException:
        if writer is not None:
            writer.close(partial=True)
            Path(writer.path).unlink(missing_ok=True)  # a failed segment leaves no take that looks finished
        raise
    finally:
        source.close()
        if estimator is not None:
            estimator.close()


class RecordedEstimator:
    """An "estimator" that hands back recorded estimates: ``process(frame)`` is the people
    recorded for ``frame.index`` on that frame (the stitch of a split video)."""

    def __init__(self, people: dict[int, tuple]) -> None:
        self.people = people

    def process(self, frame):
        from ..types import PoseFrame

        try:
            return PoseFrame(frame, self.people[frame.index])
        except KeyError:
            raise InputError(
                f"frame {frame.index} is in no segment (the video changed while it was processed)"
            ) from None

    def close(self) -> None:
        pass


def stitch_frames(takes: list, segments: tuple[SegmentLayout, ...]) -> list:
    """The segments' frames joined in order (:class:`~arpose.record.take.TakeFrame` list).
    Raises :class:`InputError` if a segment holds frames outside its range or the joined
    frames are not every frame from 0 on."""
    frames = []
    for take, seg in zip(takes, segments):
        for f in take.frames:
            if f.index < seg.start or (seg.end is not None and f.index >= seg.end):
                raise InputError(f"segment {seg.index} holds frame {f.index}, outside {seg.start}-{seg.end}")
            frames.append(f)
    indices = [f.index for f in frames]
    if indices != list(range(len(indices))):
        gap = next(i for i, k in enumerate(indices) if k != i)
        raise InputError(f"the segments do not join: frame {gap} is missing")
    return frames


def _run_stitch(task: StitchTask, progress: _Progress, times: dict) -> int:
    from ..build import build_pipeline, spec_for_source
    from ..record.take import read_take
    from ..source import VideoSource

    t = time.perf_counter()
    paths = [segment_take(Path(task.out_dir), task.name, s.index) for s in task.segments]
    takes = [read_take(p) for p in paths]
    frames = stitch_frames(takes, task.segments)
    people = {f.index: f.people for f in frames}
    staging = _staging(task)
    try:
        video = VideoSource(task.input)  # the source's name, size, rate and camera, as an unsplit run has them
        try:
            if task.video:
                source: Any = video
            else:
                video.close()
                source = _RecordedSource(video, frames)
            spec = spec_for_source(job_spec(task.spec, staging, task.name, task.video), video)
            pipeline = build_pipeline(
                spec, source, estimator=RecordedEstimator(people), take_header={"command": "batch"}
            )
        except BaseException:
            video.close()
            raise
        times["setup"] = time.perf_counter() - t
        try:
            n, error = _run_pipeline(pipeline, source, progress, times)
        finally:
            video.close()
        if error is not None:
            raise error
        if n != len(frames):
            raise InputError(f"{task.input} gave {n} frames, its segments {len(frames)}")
        t = time.perf_counter()
        progress.final()
        publish_folder(staging, Path(task.out_dir) / task.name, task.replace)
        shutil.rmtree(work_dir(Path(task.out_dir)) / "work" / task.name, ignore_errors=True)
        times["close"] = times.get("close", 0.0) + time.perf_counter() - t
        return n
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _RecordedSource:
    """Frames at the recorded times and indices, on one shared black image of the video's
    size (nothing after the estimator looks at pixels unless a video is drawn)."""

    kind = "video"
    is_sequence = True

    def __init__(self, video, frames: list) -> None:
        import numpy as np

        self.path = video.path
        self.name, self.fps, self.size = video.name, video.fps, video.size
        self.frame_count = len(frames)
        self._frames = frames
        self._image = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        self._image.flags.writeable = False

    def __iter__(self):
        from ..types import Frame

        for f in self._frames:
            yield Frame(self._image, f.timestamp, f.index)

    def close(self) -> None:
        pass
