"""File outputs fed with zero-lag smoothing: a data sink that holds frames for a bounded time.

A file run's outputs (take, landmark CSV, joint angles, BVH) need not lag, because future
frames exist. :class:`SmoothedOutputs` sits where those outputs would be in a
:class:`~arpose.pipeline.Pipeline`: it receives every analysed frame, passes it through an
:class:`~arpose.smooth.offline.OfflineSmoother` (which releases frames once ``lag`` seconds
of later frames are known), runs the released frames through its own later stages
(retargeting: bodies and angles derive from the smoothed landmarks) and writes them to the
file outputs it owns. Closing it releases the frames still held (the sequence's end), then
closes the outputs. Streams (VMC, OSC) and the annotated video are not fed from here: they
are written as frames arrive, from the causal path.

Frames reach the outputs ``lag`` to ``2 lag`` seconds after they arrive; an abrupt kill
(``kill -9``) loses at most that much more than it would otherwise. A run stopped cleanly
(Ctrl-C, SIGTERM, an error) writes every frame it holds.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..errors import ArposeError
from ..types import PoseFrame
from .offline import OfflineSmoother

__all__ = ["SmoothedOutputs"]


class SmoothedOutputs:
    """A data sink: :class:`OfflineSmoother` -> ``stages`` -> ``sinks``.

    smoother: the zero-lag smoother (its frames come out in order, with a bounded delay).
    stages: objects with ``process(PoseFrame) -> PoseFrame`` run on the smoothed frames, in
        order (e.g. a fresh :class:`~arpose.retarget.RetargetStage`), with their own state.
    sinks: data sinks (``write(PoseFrame, image)``, ``close()``) that receive every smoothed
        frame with ``image=None``; this object owns and closes them.
    """

    needs_image = False

    def __init__(self, smoother: OfflineSmoother, stages: Iterable[Any], sinks: Iterable[Any]) -> None:
        self.smoother = smoother
        self.stages = list(stages)
        self.sinks = list(sinks)
        self._closed = False

    def stage(self, name: str) -> Any:
        """The later stage called ``name`` (e.g. ``"retarget"``) or None."""
        return next((s for s in self.stages if getattr(s, "name", None) == name), None)

    def write(self, pose_frame: PoseFrame, image: Any = None) -> None:
        for pf in self.smoother.push(pose_frame):
            self._emit(pf)

    def _emit(self, pf: PoseFrame) -> None:
        for stage in self.stages:
            pf = stage.process(pf)
        for sink in self.sinks:
            sink.write(pf, None)

    def close(self, partial: bool = False) -> None:
        """Write the frames still held, then close every output (all of them, even when one
        fails; the first error is re-raised). ``partial``: the run was cut short."""
        if self._closed:
            return
        self._closed = True
        errors: list[BaseException] = []
        try:
            for pf in self.smoother.flush():
                self._emit(pf)
        except ArposeError as exc:
            errors.append(exc)
            partial = True
        for sink in self.sinks:
            try:
                _close(sink, partial)
            except Exception as exc:  # keep closing the others; re-raise the first below
                errors.append(exc)
        if errors:
            raise errors[0]

    def discard(self) -> None:
        """Remove what the outputs created (a build that failed part-way)."""
        self._closed = True
        for sink in self.sinks:
            discard = getattr(sink, "discard", None)
            if discard is not None:
                discard()
            else:
                _close(sink, False)


def _close(sink: Any, partial: bool) -> None:
    import inspect

    close = sink.close
    try:
        takes_partial = "partial" in inspect.signature(close).parameters
    except (TypeError, ValueError):
        takes_partial = False
    if partial and takes_partial:
        close(partial=True)
    else:
        close()
