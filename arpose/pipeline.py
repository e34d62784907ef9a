"""Wiring of stages: ``estimate -> stages (smooth, retarget, ...) -> render -> sinks``.

A *stage* is any object with ``name`` and ``process(PoseFrame) -> PoseFrame`` that returns a
new frame result (it never mutates its input). A *sink* has ``write(PoseFrame, image)`` and
``close()``; ``image`` is the rendered BGR frame or ``None`` when nothing renders. The
pipeline times every stage (see :class:`StageTimer`) so ``arpose bench`` can report them.

Sinks come in two kinds. *Data sinks* (VMC/OSC senders, takes, CSV, BVH) need only the pose
and are written by :meth:`Pipeline.publish` as soon as the pose is known, before anything is
rendered, so an avatar engine never waits for the overlay. *Image sinks* declare
``needs_image = True`` (e.g. :class:`ImageSink`, the annotated video) and are written by
:meth:`Pipeline.present` after rendering. :meth:`Pipeline.emit` does both, in that order.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Protocol

import numpy as np

from .stats import DEFAULT_CAPACITY, SampleStats
from .types import Frame, PoseFrame


class Stage(Protocol):
    name: str

    def process(self, pose_frame: PoseFrame) -> PoseFrame: ...


class Sink(Protocol):
    """``needs_image`` (optional class attribute, default False): True if ``write`` uses the
    rendered image; such sinks are written after rendering, the others before it."""

    def write(self, pose_frame: PoseFrame, image: np.ndarray | None) -> None: ...

    def close(self) -> None: ...


Renderer = Callable[[PoseFrame, float], np.ndarray]


class StageTimer:
    """Per-stage wall-clock durations in seconds, keyed by stage name, in bounded memory
    (:class:`arpose.stats.SampleStats`: exact while a stage has at most ``capacity`` samples,
    a uniform sample of them after that; counts and means always exact)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self.samples: dict[str, SampleStats] = {}

    def add(self, name: str, seconds: float) -> None:
        held = self.samples.get(name)
        if held is None:
            held = self.samples[name] = SampleStats(self.capacity)
        held.add(seconds)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stage: {"median_ms", "p95_ms", "mean_ms", "n"}}``: times in milliseconds over the
        whole run (see :mod:`arpose.stats` for the percentiles' accuracy); ``n`` is the true
        number of samples."""
        out = {}
        for name, held in self.samples.items():
            out[name] = {
                "median_ms": held.percentile(50) * 1000.0,
                "p95_ms": held.percentile(95) * 1000.0,
                "mean_ms": held.mean * 1000.0,
                "n": held.count,
            }
        return out


class RateMeter:
    """Exponentially averaged frames per second from wall-clock tick times."""

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha
        self._last: float | None = None
        self.fps = float("nan")

    def tick(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        if self._last is not None and now > self._last:
            inst = 1.0 / (now - self._last)
            self.fps = inst if not np.isfinite(self.fps) else (1 - self.alpha) * self.fps + self.alpha * inst
        self._last = now
        return self.fps


class Pipeline:
    """Runs one frame at a time through estimator, stages (:meth:`analyze`), then renderer
    and sinks (:meth:`emit`); :class:`arpose.runtime.LiveRuntime` calls the two halves on
    separate threads.

    estimator: object with ``process(Frame) -> PoseFrame`` (``None`` when frames arrive
        already analysed, e.g. a take replayed).
    stages: applied in order after estimation.
    renderer: ``(PoseFrame, fps) -> BGR image`` or ``None`` for no rendering.
    sinks: receive every frame result; those with ``needs_image = True`` also the rendered
        image (see the module doc).
    spec: the :class:`~arpose.spec.PipelineSpec` it was built from, if any.

    The pipeline owns all of them: :meth:`close` (or leaving a ``with`` block) closes every
    sink, the renderer and the estimator. Build one from a spec with
    :func:`arpose.build.build_pipeline`.
    """

    def __init__(
        self,
        estimator,
        stages: Iterable[Stage] = (),
        renderer: Renderer | None = None,
        sinks: Iterable[Sink] = (),
        spec=None,
    ) -> None:
        self.estimator = estimator
        self.stages = list(stages)
        self.renderer = renderer
        self.sinks = list(sinks)
        self.spec = spec
        self.timer = StageTimer()
        self.rate = RateMeter()
        self._closed = False

    def stage(self, name: str) -> Stage | None:
        """The stage called ``name`` (``"track"``, ``"smooth"``, ``"retarget"``) or None."""
        return next((s for s in self.stages if s.name == name), None)

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def analyze(self, frame: Frame) -> PoseFrame:
        """Estimation and every stage (the part that can run ahead on its own thread):
        :meth:`estimate` then :meth:`refine`."""
        return self.refine(self.estimate(frame))

    def estimate(self, frame: Frame) -> PoseFrame:
        """Estimation alone, timed as ``estimate`` (the runtime runs it on a thread of its own)."""
        t0 = time.perf_counter()
        pf = self.estimator.process(frame)
        self.timer.add("estimate", time.perf_counter() - t0)
        return pf

    def refine(self, pf: PoseFrame) -> PoseFrame:
        """Every stage in order on an estimated frame, each timed under its name."""
        t1 = time.perf_counter()
        for stage in self.stages:
            pf = stage.process(pf)
            t2 = time.perf_counter()
            self.timer.add(stage.name, t2 - t1)
            t1 = t2
        return pf

    @property
    def data_sinks(self) -> list[Sink]:
        return [s for s in self.sinks if not getattr(s, "needs_image", False)]

    @property
    def image_sinks(self) -> list[Sink]:
        return [s for s in self.sinks if getattr(s, "needs_image", False)]

    def publish(self, pf: PoseFrame) -> None:
        """Write the frame result to every data sink (VMC/OSC packets, takes, CSV), timed as
        ``output``. Safe to call on the analysing thread while :meth:`present` renders the
        previous frame on another: the two touch disjoint sinks."""
        t0 = time.perf_counter()
        for sink in self.data_sinks:
            sink.write(pf, None)
        self.timer.add("output", time.perf_counter() - t0)

    def present(self, pf: PoseFrame) -> np.ndarray | None:
        """Render (timed as ``render``) and write the image sinks (timed as ``video``).
        Returns the rendered BGR image, or ``None`` when nothing renders."""
        t1 = time.perf_counter()
        image = None
        fps = self.rate.tick()
        if self.renderer is not None:
            image = self.renderer(pf, fps)
            t2 = time.perf_counter()
            self.timer.add("render", t2 - t1)
            t1 = t2
        sinks = self.image_sinks
        if sinks:
            for sink in sinks:
                sink.write(pf, image)
            self.timer.add("video", time.perf_counter() - t1)
        return image

    def emit(self, pf: PoseFrame) -> np.ndarray | None:
        """:meth:`publish` then :meth:`present`, on one thread. Returns the rendered image."""
        self.publish(pf)
        return self.present(pf)

    def close(self, partial: bool = False) -> None:
        """Close every sink, the renderer and the estimator (all of them, even if one fails;
        the first error is re-raised). ``partial``: the run was cut short (an error or a
        signal), so file outputs keep their frames and say they are partial. Closing twice
        does nothing."""
        if self._closed:
            return
        self._closed = True
        errors = []
        for thing in [*self.sinks, self.renderer, self.estimator]:
            close = getattr(thing, "close", None)
            if close is None:
                continue
            try:
                if partial and _takes_partial(close):
                    close(partial=True)
                else:
                    close()
            except Exception as exc:  # keep closing the others; re-raise the first below
                errors.append(exc)
        if errors:
            raise errors[0]


def _takes_partial(close: Callable) -> bool:
    """True if a ``close`` method accepts ``partial=`` (the file outputs do)."""
    import inspect

    try:
        return "partial" in inspect.signature(close).parameters
    except (TypeError, ValueError):
        return False


class ImageSink:
    """Adapts a writer with ``write(image)`` / ``close()`` (e.g. a video writer) to a sink."""

    needs_image = True

    def __init__(self, writer) -> None:
        self.writer = writer

    def write(self, pose_frame: PoseFrame, image: np.ndarray | None) -> None:
        if image is not None:
            self.writer.write(image)

    @property
    def result(self):
        """The writer's :class:`~arpose.record.output.OutputResult` once closed (or None)."""
        return getattr(self.writer, "result", None)

    def close(self, partial: bool = False) -> None:
        if _takes_partial(self.writer.close):
            self.writer.close(partial=partial)
        else:
            self.writer.close()
