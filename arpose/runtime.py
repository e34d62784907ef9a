"""Pipelined runtime: capture, estimation, analysis (the stages, then the data outputs) and
presentation (rendering + image outputs) on separate threads joined by bounded queues.

Estimation (the model) has a thread of its own so that the next frame's inference overlaps
this frame's smoothing, retargeting and outputs as well as its rendering: the run is limited
by the slowest of the three, not their sum (the model, on two cores: docs/backend.md).

The data outputs (VMC/OSC packets, takes, CSV; :meth:`Pipeline.publish`) go out on the
analysing thread the moment a pose is known, so their latency never includes rendering, and
every analysed frame reaches them even when the display skips one. Rendering and the window
or video (:meth:`Pipeline.present`) run on the calling thread.

* Live (``drop_frames=True``): every hand-off is a one-slot mailbox that keeps only the
  newest item, so a slow stage makes the runtime skip frames rather than fall behind;
  memory is bounded by construction (at most one frame waiting per hand-off).
* Files (``drop_frames=False``): bounded blocking queues, so every frame is processed, but
  capture, inference and rendering still overlap on different cores.

MediaPipe, OpenCV and the renderer release the GIL in their native code, so threads give
real overlap on a multi-core machine. ``stop()`` (from any thread, a key handler, a window
close or a signal handler) ends the run cleanly: threads exit, the source and every sink are
closed, and what was recorded is kept.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .errors import ArposeError
from .pipeline import Pipeline
from .stats import SampleStats
from .types import PoseFrame

_DONE = object()


class LatestSlot:
    """A one-item mailbox: ``put`` replaces any unread item (counted in ``dropped``);
    ``get`` waits for an item. ``close`` wakes readers; after it ``get`` returns the done
    sentinel once the slot is empty."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: object = None
        self._has = False
        self._closed = False
        self.dropped = 0

    def put(self, item: object) -> None:
        with self._cond:
            if self._has:
                self.dropped += 1
            self._item, self._has = item, True
            self._cond.notify()

    def get(self, timeout: float | None = None) -> object:
        with self._cond:
            end = None if timeout is None else time.monotonic() + timeout
            while not self._has and not self._closed:
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise queue.Empty
                self._cond.wait(remaining)
            if self._has:
                item, self._item, self._has = self._item, None, False
                return item
            return _DONE

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class _Queue:
    """A bounded blocking queue with the same interface as :class:`LatestSlot`."""

    def __init__(self, size: int, stop: threading.Event) -> None:
        self._q: queue.Queue = queue.Queue(maxsize=size)
        self._stop = stop
        self.dropped = 0

    def put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def get(self, timeout: float | None = None) -> object:
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return self._q.get(timeout=0.05)
            except queue.Empty:
                if self._stop.is_set():
                    return _DONE
                if end is not None and time.monotonic() > end:
                    raise

    def close(self) -> None:
        self.put(_DONE)


@dataclass(frozen=True)
class RuntimeConfig:
    """drop_frames: live behaviour (newest frame only) vs. process every frame.
    realtime: pace a file source by its timestamps, as a camera would deliver it.
    queue_size: depth of each hand-off when frames are not dropped.
    blas_threads: BLAS (NumPy's OpenBLAS) threads for the run (``None``: leave them). The
        stages' linear algebra is on tiny matrices, where a second BLAS thread only adds a
        hand-off: on 2 busy cores a 4x4 ``inv`` or a 12x12 ``solve`` takes 4-5x the time of
        one thread, and waking the worker costs milliseconds when the other core is taken by
        inference or rendering (docs/backend.md)."""

    drop_frames: bool = True
    realtime: bool = False
    queue_size: int = 2
    blas_threads: int | None = 1


#: Most recent latencies kept in arrival order (:meth:`RuntimeStats.recent_display_latency_ms`).
RECENT_LATENCIES = 256


def _latency_samples() -> SampleStats:
    return SampleStats(recent=RECENT_LATENCIES)


@dataclass
class RuntimeStats:
    """Counts and per-frame latencies in seconds, in bounded memory
    (:class:`~arpose.stats.SampleStats`: ``count`` is the number of frames, percentiles are
    exact up to its capacity and estimated after that): ``latencies`` from capture to the
    data outputs sent (e.g. the VMC packet), ``display_latencies`` from capture to the
    rendered image handed on (window, video). ``interrupted``: the signal that ended the run
    (``"SIGINT"`` for Ctrl+C, or the ``signal_name`` of the ``KeyboardInterrupt`` raised,
    e.g. ``"SIGTERM"``), ``None`` if it was not interrupted."""

    captured: int = 0
    analyzed: int = 0
    emitted: int = 0
    dropped: int = 0
    latencies: SampleStats = field(default_factory=_latency_samples)
    display_latencies: SampleStats = field(default_factory=_latency_samples)
    seconds: float = 0.0
    error: BaseException | None = None
    interrupted: str | None = None
    first_emit: float | None = None  # perf_counter() when the first frame was presented
    last_emit: float | None = None
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def cpu_ms_per_frame(self, thread: str) -> float:
        """CPU time of one runtime thread (``"capture"``, ``"estimate"``, ``"analyze"``, ``"present"``) per
        frame it handled, ms (NaN if unknown): the thread's own CPU, not the native workers it
        wakes (XNNPACK with more than one LiteRT thread, Mesa's rasteriser threads). Unlike
        wall-clock times it hardly changes when other processes share the cores, so it tells
        what the runtime needs: on two free cores throughput is bounded by the busiest thread."""
        n = {"capture": self.captured, "estimate": self.analyzed, "analyze": self.analyzed, "present": self.emitted}
        n = n.get(thread, 0)
        sec = self.cpu_seconds.get(thread)
        return sec / n * 1000.0 if sec is not None and n else float("nan")

    @property
    def fps(self) -> float:
        """Frames presented per second of the whole run (start-up and model loading included)."""
        return self.emitted / self.seconds if self.seconds > 0 else float("nan")

    @property
    def steady_fps(self) -> float:
        """Frames presented per second from the first presented frame to the last: the rate the
        live HUD shows, without start-up (NaN with fewer than two frames)."""
        if self.first_emit is None or self.last_emit is None or self.emitted < 2:
            return float("nan")
        span = self.last_emit - self.first_emit
        return (self.emitted - 1) / span if span > 0 else float("nan")

    def latency_ms(self, q: float) -> float:
        """``q``-th percentile (0-100) of capture -> data outputs sent, ms (NaN if none)."""
        return self.latencies.percentile(q) * 1000.0

    def display_latency_ms(self, q: float) -> float:
        """``q``-th percentile (0-100) of capture -> rendered image handed on, ms (NaN if none)."""
        return self.display_latencies.percentile(q) * 1000.0

    def recent_display_latency_ms(self, n: int = 30) -> float:
        """Median of the last ``n`` (at most :data:`RECENT_LATENCIES`) capture -> rendered
        image latencies, ms: what the viewer sees now (NaN if none)."""
        recent = self.display_latencies.recent(n)
        return float(np.median(recent)) * 1000.0 if recent.size else float("nan")


def _blas_threads(n: int | None):
    """Context manager holding BLAS libraries to ``n`` threads (``None``: no change)."""
    if n is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="blas")


class LiveRuntime:
    """Runs ``source`` through ``pipeline`` on four threads (see module doc).

    on_frame: called on the emitting (calling) thread with ``(PoseFrame, image)`` after the
        sinks; return False to stop (e.g. the quit key).
    """

    def __init__(
        self,
        source,
        pipeline: Pipeline,
        on_frame: Callable[[PoseFrame, np.ndarray | None], bool | None] | None = None,
        config: RuntimeConfig = RuntimeConfig(),
    ) -> None:
        self.source = source
        self.pipeline = pipeline
        self.on_frame = on_frame
        self.config = config
        self._stop = threading.Event()  # the user's stop: end now
        self._halt = threading.Event()  # a stage failed: take no more input, emit what is analysed
        self.stats = RuntimeStats()

    def stop(self) -> None:
        """Ask every thread to finish; safe from any thread or a signal handler."""
        self._stop.set()
        self._halt.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _handoff(self):
        if self.config.drop_frames:
            return LatestSlot()
        return _Queue(self.config.queue_size, self._halt)

    def run(self) -> RuntimeStats:
        """Run until the source ends, ``stop()`` is called or a stage fails. Always closes the
        source and the pipeline. A source error (e.g. a truncated file) is kept in
        ``stats.error`` after everything before it was emitted; other errors are re-raised."""
        with _blas_threads(self.config.blas_threads):
            return self._run()

    def _run(self) -> RuntimeStats:
        st = self.stats
        to_analyze, to_emit = self._handoff(), self._handoff()
        # Estimated frames are never dropped: the stages and data outputs see every one.
        to_refine = _Queue(self.config.queue_size, self._halt)
        errors: list[BaseException] = []
        t_start = time.perf_counter()

        def capture() -> None:
            c0 = time.thread_time()
            try:
                t0 = None
                for frame in self.source:
                    if self._halt.is_set():
                        break
                    if self.config.realtime:
                        now = time.perf_counter()
                        t0 = now - frame.timestamp if t0 is None else t0
                        delay = t0 + frame.timestamp - now
                        if delay > 0:
                            self._halt.wait(delay)
                    st.captured += 1
                    to_analyze.put((frame, time.perf_counter()))
            except ArposeError as exc:
                st.error = exc
            except BaseException as exc:  # re-raised on the calling thread
                errors.append(exc)
                self._halt.set()
            finally:
                st.cpu_seconds["capture"] = time.thread_time() - c0
                to_analyze.close()

        def estimate() -> None:
            c0 = time.thread_time()
            try:
                while True:
                    item = to_analyze.get()
                    if item is _DONE or self._halt.is_set():
                        break
                    frame, t_cap = item
                    to_refine.put((self.pipeline.estimate(frame), t_cap))
            except BaseException as exc:
                errors.append(exc)
                self._halt.set()
            finally:
                st.cpu_seconds["estimate"] = time.thread_time() - c0
                to_refine.close()

        def analyze() -> None:
            c0 = time.thread_time()
            try:
                while True:
                    item = to_refine.get()  # frames estimated before a failure still go out
                    if item is _DONE:
                        break
                    pf, t_cap = item
                    pf = self.pipeline.refine(pf)
                    self.pipeline.publish(pf)
                    st.latencies.add(time.perf_counter() - t_cap)
                    st.analyzed += 1
                    to_emit.put((pf, t_cap))
            except BaseException as exc:
                errors.append(exc)
                self._halt.set()
            finally:
                st.cpu_seconds["analyze"] = time.thread_time() - c0
                to_emit.close()

        threads = [
            threading.Thread(target=capture, name="arpose-capture", daemon=True),
            threading.Thread(target=estimate, name="arpose-estimate", daemon=True),
            threading.Thread(target=analyze, name="arpose-analyze", daemon=True),
        ]
        for t in threads:
            t.start()
        c0 = time.thread_time()
        try:
            while True:
                item = to_emit.get()
                if item is _DONE or self._stop.is_set():
                    break
                pf, t_cap = item
                image = self.pipeline.present(pf)
                st.emitted += 1
                st.last_emit = time.perf_counter()
                if st.first_emit is None:
                    st.first_emit = st.last_emit
                st.display_latencies.add(time.perf_counter() - t_cap)
                if self.on_frame is not None and self.on_frame(pf, image) is False:
                    break
        except KeyboardInterrupt as exc:  # Ctrl+C, or a handler's subclass naming its signal
            st.interrupted = getattr(exc, "signal_name", "SIGINT")
        finally:
            st.cpu_seconds["present"] = time.thread_time() - c0
            self.stop()
            to_analyze.close()
            to_refine.close()
            to_emit.close()
            for t in threads:
                t.join(timeout=10.0)
            st.dropped = to_analyze.dropped + to_emit.dropped
            st.seconds = time.perf_counter() - t_start
            try:
                self.source.close()
            finally:
                try:
                    # Cut short (an error, or Ctrl-C / SIGTERM): outputs keep their frames as partial.
                    self.pipeline.close(partial=bool(errors or st.error is not None or st.interrupted))
                except BaseException as exc:
                    # The first error is the one reported: an output that cannot finish because
                    # the run failed earlier (e.g. a BVH with no body) must not hide the cause.
                    if st.error is None and not errors:
                        raise
                    del exc  # a consequence of the error already kept
        if errors:
            raise errors[0]
        return st
