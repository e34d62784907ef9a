"""A pipeline sink that writes one person's retargeted body as BVH when the run ends, with the
30 finger bones when the run tracked hands (``Person.fingers``)."""

from __future__ import annotations

from typing import NamedTuple

from .export import export_bvh, track_from_pose_frames
from .video import check_writable


class _Body(NamedTuple):
    id: int
    body: object
    fingers: object = None


class BvhSink:
    """Collects every frame's body poses (not images) and writes one person's BVH on close.

    path: the BVH file (checked writable up front); person: id or ``None`` for the person with
    the most body poses; fps: the source's nominal rate (the BVH ``Frame Time``); origin:
    ``"camera"`` or ``"floor"`` (see :func:`arpose.record.export.export_bvh`).
    Closing raises :class:`~arpose.errors.InputError` if no body pose was seen. After closing,
    ``written`` is ``(path, person id, frames)``.
    """

    def __init__(
        self, path: str, fps: float | None, person: int | None = None, force: bool = False, origin: str = "camera"
    ) -> None:
        self.path = check_writable(path, force=force)
        self.origin = origin
        self.fps = fps
        self.person = person
        self.frames: list[tuple[float, tuple]] = []
        self.written: tuple | None = None
        self.rate: float | None = None

    def write(self, pose_frame, image) -> None:
        # Keep only (id, body, fingers): a long live session must not hold every landmark and mask.
        people = tuple(
            _Body(p.id, p.body, p.fingers) for p in pose_frame.people if p.body is not None or p.fingers is not None
        )
        self.frames.append((pose_frame.timestamp, people))

    def close(self) -> None:
        if self.written is not None:
            return
        pid, track = track_from_pose_frames(self.frames, self.person, what="the run")
        path, out, rate = export_bvh(track, self.path, nominal_fps=self.fps, force=True, origin=self.origin)
        self.written = (path, pid, out)
        self.rate = rate
