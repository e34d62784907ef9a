"""Annotated video output. The file is finalised on close (also on errors, via the
context manager), so a run that stops part-way leaves a playable video of the frames done."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .._cv import cv2
from ..errors import OutputError

_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
IMAGE_OUTPUTS = {".png", ".jpg", ".jpeg", ".bmp"}


def check_writable(path: str | os.PathLike[str], force: bool = True) -> Path:
    """Check up front that ``path`` can be created: its folder exists and is writable, and
    (with ``force=False``) no file is there yet. Raises :class:`OutputError`."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OutputError(f"output is a folder, expected a file name: {p}")
    if not parent.is_dir():
        raise OutputError(f"output folder does not exist: {parent} (create it first)")
    try:  # the definitive check (os.access says yes to root even on read-only mounts)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".arpose-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"output folder is not writable: {parent} ({exc.strerror})") from None
    if p.exists() and not force:
        raise OutputError(f"output exists: {p} (use --force to overwrite)")
    return p


class VideoWriter:
    """Writes BGR frames to a video file (``.mp4`` mp4v, ``.avi`` MJPG) or, for an image
    extension, the last frame to an image. Frames must all be ``size`` ``(width, height)``."""

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]):
        self.path = check_writable(path)
        self.size = size
        self.frames = 0
        self._image_mode = self.path.suffix.lower() in IMAGE_OUTPUTS
        self._writer = None
        self._last: np.ndarray | None = None
        if not self._image_mode:
            fourcc = _FOURCC.get(self.path.suffix.lower())
            if fourcc is None:
                raise OutputError(
                    f"unsupported video extension {self.path.suffix!r}: use one of {', '.join(sorted(_FOURCC))} "
                    f"or an image extension"
                )
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*fourcc), float(fps), size)
            if not self._writer.isOpened():
                raise OutputError(f"cannot open video for writing: {self.path}")

    def write(self, image: np.ndarray) -> None:
        """Append one BGR ``(H, W, 3)`` uint8 frame (resized to ``size`` if needed)."""
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        if self._image_mode:
            self._last = image
        else:
            self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._image_mode and self._last is not None:
            if not cv2.imwrite(str(self.path), self._last):
                raise OutputError(f"cannot write image: {self.path}")
            self._last = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
