"""The LiteRT backend against MediaPipe's ``solutions.pose``, frame by frame, and their speed.

* :func:`compare_frames` (pure) scores two runs over the same frames: detection decisions,
  image-landmark errors in pixels at 640 wide, world-landmark errors in metres.
* :func:`run_parity` runs both estimators over frames in one process and scores them.
* :func:`time_backends` times both per frame, interleaved in one process (ratios are what
  mean something on a shared machine).
* :func:`parity_table` formats results (the caller prints).

The targets of issue 18 are :data:`TARGETS`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..types import Frame, PoseFrame
from .blazepose import BlazePoseEstimator, EstimatorConfig
from .graph import solutions_runtime_in_process
from .litert import LiteRTOptions, LiteRTPoseEstimator

__all__ = [
    "TARGETS",
    "BackendTimes",
    "ParityStats",
    "compare_frames",
    "parity_table",
    "run_parity",
    "time_backends",
]

#: Issue 18's targets: image landmarks within a median of 1 px and a 95th percentile of 3 px
#: (at 640 wide), world landmarks within a median of 5 mm, the same detection decision on at
#: least 99% of frames (and none on images without a person).
TARGETS = {"px_median": 1.0, "px_p95": 3.0, "world_median_m": 0.005, "agreement": 0.99}

#: Image width the pixel errors are expressed at.
REFERENCE_WIDTH = 640.0


@dataclass(frozen=True)
class ParityStats:
    """How closely a candidate run matches a reference run.

    name: what was run. frames: frames compared. agree: frames with the same decision (person
    or not). both: frames where both found a person. found_reference, found_candidate: frames
    with a person in each run.
    px: ``(both * 33,)`` float64 image-landmark distances in pixels, scaled to a 640-wide image.
    world_m: ``(both * 33,)`` float64 world-landmark distances in metres.
    """

    name: str
    frames: int
    agree: int
    both: int
    found_reference: int
    found_candidate: int
    px: np.ndarray = field(repr=False)
    world_m: np.ndarray = field(repr=False)

    @property
    def agreement(self) -> float:
        return self.agree / self.frames if self.frames else 1.0

    def _stat(self, values: np.ndarray, q: float) -> float:
        return float(np.percentile(values, q)) if values.size else 0.0

    @property
    def px_median(self) -> float:
        return self._stat(self.px, 50)

    @property
    def px_p95(self) -> float:
        return self._stat(self.px, 95)

    @property
    def px_max(self) -> float:
        return float(self.px.max()) if self.px.size else 0.0

    @property
    def world_median_m(self) -> float:
        return self._stat(self.world_m, 50)

    @property
    def world_max_m(self) -> float:
        return float(self.world_m.max()) if self.world_m.size else 0.0

    def meets_targets(self) -> bool:
        """Whether every target of :data:`TARGETS` holds."""
        return (
            self.px_median <= TARGETS["px_median"]
            and self.px_p95 <= TARGETS["px_p95"]
            and self.world_median_m <= TARGETS["world_median_m"]
            and self.agreement >= TARGETS["agreement"]
        )


def compare_frames(name: str, reference: Sequence[PoseFrame], candidate: Sequence[PoseFrame]) -> ParityStats:
    """Score ``candidate`` against ``reference`` (same frames, same order; person 0 of each).

    Image landmark errors are Euclidean distances of x, y in pixels of the frame, scaled by
    ``640 / frame width``; world errors are Euclidean distances in metres.
    """
    if len(reference) != len(candidate):
        raise ValueError(f"{len(reference)} reference frames but {len(candidate)} candidate frames")
    px, world = [], []
    agree = both = found_r = found_c = 0
    for r, c in zip(reference, candidate):
        hr, hc = bool(r.people), bool(c.people)
        agree += hr == hc
        found_r += hr
        found_c += hc
        if hr and hc:
            both += 1
            w, h = r.frame.size
            a, b = r.people[0], c.people[0]
            d = (a.landmarks[:, :2].astype(np.float64) - b.landmarks[:, :2]) * (w, h)
            px.append(np.linalg.norm(d, axis=1) * (REFERENCE_WIDTH / w))
            world.append(np.linalg.norm(a.world.astype(np.float64) - b.world, axis=1))
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)
    return ParityStats(name, len(reference), agree, both, found_r, found_c, cat(px), cat(world))


def run_parity(
    name: str,
    frames: Iterable[Frame],
    config: EstimatorConfig = EstimatorConfig(),
    options: LiteRTOptions | None = None,
) -> ParityStats:
    """Run ``solutions.pose`` (:class:`BlazePoseEstimator`) and :class:`LiteRTPoseEstimator`
    with the same ``config`` over ``frames`` (each frame to both, in turn) and score them.

    options: the LiteRT backend's; default: its defaults with the graph runtime that the
    ``solutions.pose`` of this process follows (:func:`~.graph.solutions_runtime_in_process`).
    """
    if options is None:
        options = LiteRTOptions(graph_runtime=solutions_runtime_in_process())
    ref_out, cand_out = [], []
    with BlazePoseEstimator(config) as ref, LiteRTPoseEstimator(config, options) as cand:
        for frame in frames:
            ref_out.append(ref.process(frame))
            cand_out.append(cand.process(frame))
    return compare_frames(name, ref_out, cand_out)


@dataclass(frozen=True)
class BackendTimes:
    """Per-frame times in milliseconds, ``{backend name: (frames,) array}``, measured
    interleaved frame by frame in one process.

    ms: wall-clock time of each ``process`` call. cpu_ms: CPU time the whole process used
    during it (all threads), less sensitive than wall time to other programs on a busy machine.
    """

    ms: dict[str, np.ndarray]
    cpu_ms: dict[str, np.ndarray] = field(default_factory=dict)

    def median(self, name: str, cpu: bool = False) -> float:
        return float(np.median((self.cpu_ms if cpu else self.ms)[name]))

    def ratio(self, slower: str, faster: str, cpu: bool = False) -> float:
        """How many times faster ``faster`` is than ``slower`` (ratio of medians)."""
        return self.median(slower, cpu) / self.median(faster, cpu)


def time_backends(
    frames: Sequence[Frame],
    config: EstimatorConfig = EstimatorConfig(),
    threads: Sequence[int] = (1, 2),
    repeats: int = 1,
) -> BackendTimes:
    """Time ``process`` of ``solutions.pose`` (``"mediapipe"``) and of the LiteRT backend with
    each thread count (``"litert-<n>"``) on every frame, the backends taking turns on each frame
    so machine load hits them alike. Each backend first warms up on the first frames with a
    separate estimator (models loaded, caches filled), so start-up is not timed."""
    makers = {"mediapipe": lambda: BlazePoseEstimator(config)}
    for n in threads:
        makers[f"litert-{n}"] = lambda n=n: LiteRTPoseEstimator(config, LiteRTOptions(threads=n))
    estimators = {}
    for name, make in makers.items():
        with make() as warm:
            for frame in frames[:10]:
                warm.process(frame)
        estimators[name] = make()
    wall: dict[str, list[float]] = {name: [] for name in estimators}
    cpu: dict[str, list[float]] = {name: [] for name in estimators}
    try:
        for _ in range(repeats):
            for frame in frames:
                for name, est in estimators.items():
                    c0, t0 = time.process_time(), time.perf_counter()
                    est.process(frame)
                    wall[name].append((time.perf_counter() - t0) * 1000.0)
                    cpu[name].append((time.process_time() - c0) * 1000.0)
    finally:
        for est in estimators.values():
            est.close()
    return BackendTimes({k: np.asarray(v) for k, v in wall.items()}, {k: np.asarray(v) for k, v in cpu.items()})


def parity_table(results: Sequence[ParityStats]) -> str:
    """A Markdown table of parity results, one row per run."""
    rows = [
        "| media | frames | same decision | person (mp / litert) | px median | px p95 | px max | world median | world max |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r.name} | {r.frames} | {r.agree} ({100 * r.agreement:.1f}%) | {r.found_reference} / {r.found_candidate} "
            f"| {r.px_median:.3g} | {r.px_p95:.3g} | {r.px_max:.3g} "
            f"| {1000 * r.world_median_m:.3g} mm | {1000 * r.world_max_m:.3g} mm |"
        )
    return "\n".join(rows)
