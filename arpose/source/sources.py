"""Sources of frames. See :mod:`arpose.source`."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from .._cv import cv2
from ..errors import InputError
from ..types import Frame

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


class Source:
    """Base class: an iterable of :class:`Frame` with known size and rate.

    Attributes: ``name`` (for messages and file headers), ``fps`` (nominal frames per second),
    ``size`` ``(width, height)`` in pixels, ``frame_count`` (``None`` when unbounded),
    ``is_sequence`` (True when consecutive frames are consecutive moments, so tracking
    may carry over; False for unrelated stills).
    """

    name: str = ""
    fps: float = 30.0
    size: tuple[int, int] = (0, 0)
    frame_count: int | None = None
    is_sequence: bool = True
    kind: str = ""

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying device or file. Safe to call twice."""

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"input not found: {path} (check the path)")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"input is empty (0 bytes): {path}")
    if path.is_file() and not os.access(path, os.R_OK):
        raise InputError(f"input is not readable (permission denied): {path}")


def _read_image(path: Path) -> np.ndarray:
    _check_file(path)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"cannot decode image: {path} (not an image OpenCV can read)")
    return image


class VideoSource(Source):
    """A video file decoded with OpenCV (FFmpeg). Timestamps come from the container.

    If the file ends before the number of frames its header declares (a truncated or
    corrupt file), iteration yields every decodable frame and then raises
    :class:`InputError`, so callers keep what was processed.
    """

    kind = "video"

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        _check_file(self.path)
        if self.path.is_dir():
            raise InputError(f"expected a video file, got a folder: {self.path}")
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            self._cap.release()
            raise InputError(f"cannot decode video: {self.path} (not a video file OpenCV can read, or corrupt)")
        self.name = self.path.name
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.1 < fps < 1000.0 else 30.0
        self.size = (int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        declared = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.declared_frames = declared if declared > 0 else None
        self.frame_count = self.declared_frames
        if self.size[0] <= 0 or self.size[1] <= 0:
            self._cap.release()
            raise InputError(f"cannot decode video: {self.path} (no video stream)")

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        last_t = -np.inf
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                break
            t = float(self._cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            if not np.isfinite(t) or t <= last_t:
                # Containers without usable timestamps: fall back to the nominal rate.
                t = index / self.fps if last_t == -np.inf else last_t + 1.0 / self.fps
            last_t = t
            yield Frame(image=image, timestamp=t, index=index)
            index += 1
        self.close()
        if index == 0:
            raise InputError(f"cannot decode video: {self.path} (no frame could be decoded)")
        if self.declared_frames is not None and index < self.declared_frames - max(2, self.declared_frames // 100):
            raise InputError(
                f"video is truncated or corrupt: {self.path} decoded {index} of {self.declared_frames} frames "
                f"(outputs hold the {index} decoded frames)"
            )

    def close(self) -> None:
        self._cap.release()


class ImageSource(Source):
    """A single still image: one frame at t = 0."""

    kind = "image"
    is_sequence = False

    def __init__(self, path: str | os.PathLike[str], fps: float = 30.0):
        self.path = Path(path)
        self._image = _read_image(self.path)
        self.name = self.path.name
        self.fps = fps
        self.size = (self._image.shape[1], self._image.shape[0])
        self.frame_count = 1

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(image=self._image, timestamp=0.0, index=0)


class FolderSource(Source):
    """The images of a folder in name order, at a nominal rate (timestamps ``index / fps``).

    By default the images are treated as unrelated stills (``is_sequence=False``); pass
    ``sequence=True`` when they are consecutive frames of one shot so tracking carries over.
    Images of a different size from the first are resized to it.
    """

    kind = "folder"

    def __init__(self, path: str | os.PathLike[str], fps: float = 30.0, sequence: bool = False):
        self.path = Path(path)
        _check_file(self.path)
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if not self.files:
            raise InputError(f"folder holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))}): {self.path}")
        first = _read_image(self.files[0])
        self.name = self.path.name
        self.fps = fps
        self.size = (first.shape[1], first.shape[0])
        self.frame_count = len(self.files)
        self.is_sequence = sequence

    def __iter__(self) -> Iterator[Frame]:
        for i, f in enumerate(self.files):
            image = _read_image(f)
            if (image.shape[1], image.shape[0]) != self.size:
                image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
            yield Frame(image=image, timestamp=i / self.fps, index=i)


class CameraSource(Source):
    """A webcam by index. Timestamps are a monotonic clock since the camera opened."""

    kind = "camera"

    def __init__(self, index: int, width: int | None = None, height: int | None = None):
        self.index = index
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise InputError(f"cannot open webcam {index} (no such camera, or it is in use); try another index")
        if width:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self.name = f"camera{index}"
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.1 < fps < 1000.0 else 30.0
        self.size = (int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.frame_count = None
        self._t0 = time.monotonic()

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        last_t = -1.0
        while self._cap.isOpened():
            ok, image = self._cap.read()
            if not ok:
                break
            t = time.monotonic() - self._t0
            if t <= last_t:
                t = last_t + 1e-6
            last_t = t
            yield Frame(image=image, timestamp=t, index=index)
            index += 1

    def close(self) -> None:
        self._cap.release()


def open_source(spec: str | int, fps: float = 30.0, sequence: bool = False) -> Source:
    """Open a source from a command-line style spec.

    spec: an int or a string of digits (webcam index), a folder (its images), an image
        file (by extension) or anything else (a video file).
    fps: nominal rate for images and folders. sequence: see :class:`FolderSource`.

    Raises :class:`InputError` with the reason when the input cannot be used.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec))
    path = Path(spec)
    _check_file(path)
    if path.is_dir():
        return FolderSource(path, fps=fps, sequence=sequence)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return ImageSource(path, fps=fps)
    return VideoSource(path)


class LoopSource(Source):
    """A finite source played over and over, as a camera would deliver it: timestamps keep
    increasing across the seams (one nominal frame step between the last frame of one pass
    and the first of the next) and indices keep counting.

    open_source: a zero-argument callable returning a fresh source for each pass (its first
        pass gives ``name``, ``fps``, ``size``, ``kind`` and ``is_sequence``).
    frame_count: frames in all; ``None`` plays until closed or stopped.
    """

    def __init__(self, open_source, frame_count: int | None = None) -> None:
        self._open = open_source
        first = open_source()
        self.name, self.fps, self.size = first.name, first.fps, first.size
        self.kind, self.is_sequence = first.kind, first.is_sequence
        self._current: Source | None = first
        self.frame_count = frame_count
        self._closed = False

    def __iter__(self) -> Iterator[Frame]:
        n, offset = 0, 0.0
        while not self._closed and (self.frame_count is None or n < self.frame_count):
            current = self._current if self._current is not None else self._open()
            self._current = current
            last, passed = 0.0, 0
            try:
                for frame in current:
                    if self._closed or (self.frame_count is not None and n >= self.frame_count):
                        return
                    last = frame.timestamp
                    yield Frame(frame.image, offset + frame.timestamp, n)
                    n += 1
                    passed += 1
            finally:
                current.close()
                self._current = None
            if passed == 0:
                return  # an empty pass would loop for ever
            offset += last + 1.0 / self.fps

    def close(self) -> None:
        self._closed = True
        if self._current is not None:
            self._current.close()
