"""What a batch has to do: its options, its jobs, and for each job whether to run it.

Pure parts: :func:`decide` (one job's fate from its last manifest record and its input
now), :func:`split_layout` (the segments of a long video), :func:`settings_digest`.
:func:`plan_batch` gathers the facts they need (manifest, file sizes and times, existing
folders, each video's frame count) and checks everything before any job starts.

Folder layout under the output folder ``DIR``::

    DIR/manifest.jsonl                 the manifest (arpose.batch.manifest)
    DIR/<name>/                        one finished video: <name>.take, <name>.bvh,
                                       <name>.landmarks.csv, <name>.angles.csv
                                       (+ <name>.annotated.mp4 with --video)
    DIR/.arpose-batch/lock             held by the running batch
    DIR/.arpose-batch/work/<name>/     a job in the making: out-<token>/ becomes DIR/<name>/
                                       in one rename; seg-NNN.take are the parts of a split video
    DIR/.arpose-batch/trash/           folders replaced by --force or a rerun, removed afterwards
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError, InputError, OutputError
from ..spec import PipelineSpec, spec_to_toml
from .inputs import assign_names, find_videos
from .manifest import MANIFEST_NAME, Record, latest, read_manifest

WORK_DIR = ".arpose-batch"
#: Default seconds of video a segment processes before its first kept frame (``--split-overlap``).
DEFAULT_OVERLAP = 2.0


def batch_default_spec() -> PipelineSpec:
    """The pipeline settings a batch starts from: the product defaults with the LiteRT backend
    on one thread per model, since a batch runs one worker per CPU and a second XNNPACK thread
    only contends with the first for that core (measured in docs/batch.md); ``--threads`` or
    ``--config`` change it like any setting."""
    spec = PipelineSpec()
    return replace(spec, estimator=replace(spec.estimator, threads=1))


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs (everything but the inputs and the backend).

    out_dir: the output folder (created if missing). spec: the pipeline settings every video
    gets (its file outputs are the batch's own: a take, BVH, landmark and angles CSVs, and
    the annotated video with ``video``). retry: run failed jobs again. force: redo finished
    jobs whose input or settings changed, and replace output folders this batch did not make.
    split_minutes: cut videos longer than this into segments run in parallel (None: never).
    split_overlap: seconds each segment runs before its first kept frame (the estimator's
    tracking warms up there; those frames are dropped).
    """

    out_dir: Path
    spec: PipelineSpec = field(default_factory=batch_default_spec)
    video: bool = False
    retry: bool = False
    force: bool = False
    split_minutes: float | None = None
    split_overlap: float = DEFAULT_OVERLAP

    def validate(self) -> "BatchOptions":
        """ConfigError for values or settings a batch cannot use; returns self."""
        if self.split_minutes is not None and not (math.isfinite(self.split_minutes) and self.split_minutes > 0):
            raise ConfigError(f"--split-minutes must be a number of minutes > 0, got {self.split_minutes}")
        if not (math.isfinite(self.split_overlap) and self.split_overlap >= 0):
            raise ConfigError(f"--split-overlap must be seconds >= 0, got {self.split_overlap}")
        spec = self.spec
        for kind, flag in (("take", "--take"), ("bvh", "--bvh"), ("csv", "--csv"), ("angles", "--angles")):
            out = spec.output(kind)
            if out is not None and getattr(out, "path", None) not in (None, PER_VIDEO):
                raise ConfigError(
                    f"{flag} names one file; arpose batch writes a take, BVH, landmark and angles CSV "
                    f"for every video into {self.out_dir}/<name>/"
                )
        if spec.output("video") is not None:
            raise ConfigError("arpose batch writes the annotated video of each video with --video (not --out FILE)")
        for kind in ("vmc", "osc"):
            if spec.output(kind) is not None:
                raise ConfigError(f"--{kind} streams one run live; arpose batch only writes files")
        if spec.overlay.draws_props and not self.video:
            raise ConfigError("--props and --avatar draw on the annotated video; add --video")
        if not spec.retarget.enabled:
            raise ConfigError("arpose batch writes BVH and joint angles, which need retargeting: drop --no-retarget")
        if self.split_minutes is not None and spec.segmentation:
            raise ConfigError(
                "--split-minutes cannot carry segmentation masks (props with occlusion) across segments; "
                "use --no-occlusion or drop --split-minutes"
            )
        job_spec(spec, Path("x"), "x", self.video).validate()
        return self


#: Placeholder path of the per-video outputs in :attr:`BatchOptions.spec` (their other
#: settings, e.g. the BVH origin, apply to every video).
PER_VIDEO = "<per video>"


def output_names(name: str, video: bool = False) -> dict[str, str]:
    """The files a finished job's folder holds, by output kind."""
    names = {
        "take": f"{name}.take",
        "bvh": f"{name}.bvh",
        "csv": f"{name}.landmarks.csv",
        "angles": f"{name}.angles.csv",
    }
    if video:
        names["video"] = f"{name}.annotated.mp4"
    return names


def job_spec(spec: PipelineSpec, folder: Path, name: str, video: bool) -> PipelineSpec:
    """``spec`` with one video's file outputs in ``folder`` (the BVH keeps its person and
    origin settings)."""
    from ..spec import AnglesOutput, BvhOutput, CsvOutput, TakeOutput, VideoOutput

    files = output_names(name, video)
    bvh = spec.output("bvh")
    bvh = replace(bvh, path=str(folder / files["bvh"])) if bvh is not None else BvhOutput(str(folder / files["bvh"]))
    outs = [
        TakeOutput(str(folder / files["take"])),
        bvh,
        CsvOutput(str(folder / files["csv"])),
        AnglesOutput(str(folder / files["angles"])),
    ]
    if video:
        outs.append(VideoOutput(str(folder / files["video"])))
    return replace(spec, outputs=tuple(outs))


def settings_digest(spec: PipelineSpec, video: bool = False) -> str:
    """A short digest of the settings that decide a job's outputs (the spec's stages and
    the BVH settings, and whether the annotated video is made): a rerun with other settings
    sees its finished jobs as changed.

    The estimator's backend and thread count do not decide the outputs (the LiteRT backend
    gives MediaPipe's answers, docs/backend.md), so they are hashed at fixed values: those of
    the releases before LiteRT became the default, so a batch begun then resumes."""
    est = replace(spec.estimator, backend="mediapipe", threads=2)
    text = spec_to_toml(job_spec(replace(spec, estimator=est), Path(PER_VIDEO), PER_VIDEO, video))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Decision:
    """What to do with one job. action: ``run``; ``skip`` (finished, unchanged); ``failed``
    (failed before, kept without ``--retry``); ``changed`` (finished, but its input or the
    settings changed: redone only with ``--force``); ``conflict`` (its folder exists and this
    batch did not make it: only with ``--force``). replace: running it may replace an
    existing output folder. reason: for the user."""

    action: str
    replace: bool = False
    reason: str = ""


def decide(
    last: Record | None,
    *,
    size: int,
    mtime_ns: int,
    settings: str,
    folder_exists: bool,
    retry: bool = False,
    force: bool = False,
) -> Decision:
    """One job's :class:`Decision` from its last manifest record and its input now."""
    if last is None:
        if folder_exists:
            if force:
                return Decision("run", replace=True, reason="replacing a folder this batch did not make (--force)")
            return Decision("conflict", reason="the folder exists and was not made by this batch (use --force)")
        return Decision("run", reason="new")
    same_input = last.size == size and last.mtime_ns == mtime_ns
    same = same_input and last.settings == settings
    what = "the input changed" if not same_input else "the settings changed"
    if last.status == "done":
        if same:
            if folder_exists:
                return Decision("skip", reason="finished")
            return Decision("run", reason="finished before, but its folder is gone")
        if force:
            return Decision("run", replace=folder_exists, reason=f"{what} (--force)")
        return Decision("changed", reason=f"{what} since it finished (--force redoes it)")
    if last.status == "failed":
        if same and not retry:
            return Decision("failed", reason=last.error or "failed (--retry runs it again)")
        return Decision("run", replace=folder_exists, reason="retry" if same else what)
    return Decision("run", replace=folder_exists, reason="interrupted")  # "running": the batch stopped


# ------------------------------------------------------------------------------- splitting


@dataclass(frozen=True)
class SegmentLayout:
    """One part of a split video: frames ``start`` to ``end`` (exclusive; None: to the end of
    the file) are kept; the estimator starts at ``warmup_from`` (<= start) so that its
    tracking has settled by ``start``."""

    index: int
    count: int
    start: int
    end: int | None
    warmup_from: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "count": self.count,
            "start": self.start,
            "end": self.end,
            "warmup_from": self.warmup_from,
        }


def split_layout(frames: int | None, fps: float, minutes: float | None, overlap: float) -> tuple[SegmentLayout, ...]:
    """The segments of a video of ``frames`` at ``fps`` cut every ``minutes``; ``()`` when it
    is not split (no ``minutes``, unknown length, or one segment would hold it all). The last
    segment runs to the end of the file, whatever the container declared."""
    if minutes is None or not frames or fps <= 0:
        return ()
    size = max(1, int(round(minutes * 60.0 * fps)))
    count = math.ceil(frames / size)
    if count < 2:
        return ()
    warm = int(round(overlap * fps))
    return tuple(
        SegmentLayout(k, count, k * size, None if k == count - 1 else (k + 1) * size, max(0, k * size - warm))
        for k in range(count)
    )


# ------------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Job:
    """One input video. decision: see :class:`Decision`. frames, fps: as the container
    declares them (None if it could not be opened: ``error`` says why, and the job fails
    without running). segments: its parts with ``--split-minutes`` (empty: one task).
    segments_done: indices of parts finished by an earlier run, reused as they are."""

    input: Path
    name: str
    size: int
    mtime_ns: int
    decision: Decision
    frames: int | None = None
    fps: float | None = None
    error: str | None = None
    segments: tuple[SegmentLayout, ...] = ()
    segments_done: frozenset[int] = frozenset()


@dataclass(frozen=True)
class BatchPlan:
    """Every job of a batch and the options it runs with. ``settings``: the settings digest
    written into the manifest. ``records``: the manifest as read."""

    options: BatchOptions
    jobs: tuple[Job, ...]
    settings: str
    records: tuple[Record, ...] = ()

    @property
    def to_run(self) -> list[Job]:
        return [j for j in self.jobs if j.decision.action == "run"]

    def count(self, action: str) -> int:
        return sum(j.decision.action == action for j in self.jobs)


def work_dir(out_dir: Path) -> Path:
    return Path(out_dir) / WORK_DIR


def segment_take(out_dir: Path, name: str, index: int) -> Path:
    """Where part ``index`` of a split video is kept until the parts are stitched."""
    return work_dir(out_dir) / "work" / name / f"seg-{index:03d}.take"


def _probe(path: Path) -> tuple[int | None, float | None, str | None]:
    from ..source import VideoSource

    try:
        src = VideoSource(path)
    except InputError as exc:
        return None, None, str(exc)
    try:
        return src.frame_count, src.fps, None
    finally:
        src.close()


def plan_batch(inputs: Iterable[str], options: BatchOptions) -> BatchPlan:
    """Find the videos, read the manifest, decide every job and check the output folder.

    Raises :class:`InputError` (no such input, nothing found, unreadable manifest),
    :class:`ConfigError` (bad options) or :class:`OutputError` (the output folder is a file
    or cannot be written, or holds folders this batch did not make, without ``force``)
    before anything is written.
    """
    options.validate()
    out = Path(os.path.abspath(options.out_dir))
    options = replace(options, out_dir=out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder")
    videos = find_videos(inputs, exclude=out)
    records = tuple(read_manifest(out / MANIFEST_NAME))
    last = latest(records)
    known = {r.input: r.name for r in records}
    names = assign_names(videos, known)
    settings = settings_digest(options.spec, options.video)
    jobs = []
    for path in videos:
        name = names[path]
        try:
            st = path.stat()
        except OSError as exc:
            raise InputError(f"cannot read {path} ({exc.strerror})") from None
        folder = out / name
        rec = last.get((str(path), None))
        d = decide(
            rec,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            settings=settings,
            folder_exists=folder.exists(),
            retry=options.retry,
            force=options.force,
        )
        job = Job(path, name, st.st_size, st.st_mtime_ns, d)
        if d.action == "run":
            frames, fps, error = _probe(path)
            segments = split_layout(frames, fps or 0.0, options.split_minutes, options.split_overlap)
            done = frozenset(
                s.index
                for s in segments
                if _segment_reusable(last.get((str(path), s.index)), s, st, settings)
                and segment_take(out, name, s.index).is_file()
            )
            job = replace(job, frames=frames, fps=fps, error=error, segments=segments, segments_done=done)
        jobs.append(job)
    conflicts = [j for j in jobs if j.decision.action == "conflict"]
    if conflicts:
        more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
        raise OutputError(
            f"output folder {out / conflicts[0].name} exists and was not made by this batch{more}; "
            f"use --force to replace, or another --out"
        )
    _check_writable(out)
    return BatchPlan(options, tuple(jobs), settings, records)


def _segment_reusable(rec: Record | None, seg: SegmentLayout, st: os.stat_result, settings: str) -> bool:
    return (
        rec is not None
        and rec.status == "done"
        and rec.size == st.st_size
        and rec.mtime_ns == st.st_mtime_ns
        and rec.settings == settings
        and dict(rec.segment or {}) == seg.as_dict()
    )


def _check_writable(out: Path) -> None:
    import tempfile

    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"--out {out}: {probe} is a file, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".arpose-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"output folder is not writable: {probe} ({exc.strerror})") from None
