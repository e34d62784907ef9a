"""Annotated video output that survives any stop, written with PyAV (FFmpeg).

Containers, by the output's extension:

* ``.mp4`` / ``.m4v`` / ``.mov``: fragmented MP4 (``movflags=frag_keyframe+empty_moov+
  default_base_moof``), H.264 (``libx264``, preset ``veryfast``, tune ``zerolatency``: no
  frames held back in the encoder); MPEG-4 Part 2 when the width or height is odd (4:2:0 H.264
  needs even sizes).
* ``.mkv``: Matroska, the same codecs.
* ``.avi``: Motion JPEG (as before; AVI keeps its index at the end, so it is the one container
  that does not survive ``kill -9``).

An MP4 fragment (a Matroska cluster) ends at every keyframe (one a second: ``gop_size`` = the
frame rate rounded down) and at least every 0.25 s, and every packet is handed to the operating
system as it is muxed (``flush_packets``), so after ``kill -9`` the file plays up to its last
complete fragment: at most a quarter of a second and a frame is lost (one frame in the tests).
Frames are numbered ``0, 1, ...`` at the constant rate given (presentation time = index / fps).

The file is written as ``NAME.partial.EXT`` and renamed into place on close; see
:mod:`arpose.record.output` for the rules (no frames: no file; cut short: kept and flagged
partial). An image extension (``.png``, ``.jpg``, ...) writes the last frame as an image.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Iterable

import numpy as np

from .._cv import cv2
from ..errors import ConfigError, OutputError
from .output import OutputResult, PendingOutput, check_writable

#: Extension -> (FFmpeg muxer, codec, muxer options beyond ``flush_packets``).
#: A fragment at every keyframe and at least every quarter second (microseconds): +0.6 % in
#: size on a test clip; a fragment per frame cost +5 %.
_FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "frag_duration": "250000"}
_CONTAINERS = {
    ".mp4": ("mp4", "libx264", _FRAGMENTED),
    ".m4v": ("mp4", "libx264", _FRAGMENTED),
    ".mov": ("mov", "libx264", _FRAGMENTED),
    ".mkv": ("matroska", "libx264", {"cluster_time_limit": "250"}),  # ms; FFmpeg's default is 5 s
    ".avi": ("avi", "mjpeg", {}),
}
VIDEO_OUTPUTS = frozenset(_CONTAINERS)
IMAGE_OUTPUTS = {".png", ".jpg", ".jpeg", ".bmp"}
#: Fixed quantiser of the MPEG-4 Part 2 (odd sizes) and Motion JPEG encoders: 41.5 dB PSNR on
#: a test clip, as OpenCV's writers gave (FFmpeg's default rate control gives 33 dB).
_QUANTISER = 3

__all__ = ["IMAGE_OUTPUTS", "VIDEO_OUTPUTS", "VideoWriter", "check_writable"]


def _open_stream(path: os.PathLike[str], suffix: str, rate: Fraction, size: tuple[int, int]):
    """Open the PyAV container and video stream for ``path`` (see the module doc)."""
    import av

    fmt, codec, options = _CONTAINERS[suffix]
    width, height = size
    if codec == "libx264" and (width % 2 or height % 2):
        codec = "mpeg4"
    container = av.open(os.fspath(path), "w", format=fmt, options={**options, "flush_packets": "1"})
    try:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.gop_size = max(1, math.floor(rate))
        if codec == "libx264":
            stream.options = {"preset": "veryfast", "tune": "zerolatency"}
        else:  # mpeg4, mjpeg
            stream.codec_context.qscale = True
            stream.codec_context.qmin = stream.codec_context.qmax = _QUANTISER
        stream.codec_context.open()
    except BaseException:
        container.close()
        raise
    return container, stream


class VideoWriter:
    """Writes BGR frames to a video file (see the module doc) or, for an image extension, the
    last frame to an image.

    path: the output; fps: frames per second (> 0); size: ``(width, height)`` pixels, every
    frame is resized to it. force, inputs: as :func:`check_writable` (the app checks with the
    user's ``--force`` first, so the default is ``True``).
    Nothing is created before the first frame. Raises :class:`OutputError` (and
    :class:`ConfigError` for a bad ``fps`` or ``size``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float,
        size: tuple[int, int],
        force: bool = True,
        inputs: Iterable[str | os.PathLike[str]] = (),
    ):
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix not in _CONTAINERS and suffix not in IMAGE_OUTPUTS:
            raise OutputError(
                f"unsupported video extension {suffix!r}: use one of {', '.join(sorted(_CONTAINERS))} "
                f"or an image extension ({', '.join(sorted(IMAGE_OUTPUTS))})"
            )
        if not (math.isfinite(fps) and fps > 0):
            raise ConfigError(f"video frame rate must be a positive number, got {fps}")
        width, height = (int(v) for v in size)
        if width <= 0 or height <= 0:
            raise ConfigError(f"video size must be positive, got {width}x{height}")
        self._pending = PendingOutput(path, force=force, inputs=inputs)
        self.path = self._pending.path
        self.size = (width, height)
        self.fps = float(fps)
        self.frames = 0
        self._suffix = suffix
        self._image_mode = suffix in IMAGE_OUTPUTS
        self._rate = Fraction(self.fps).limit_denominator(1001)
        self._container = None
        self._stream = None
        self._last: np.ndarray | None = None

    @property
    def result(self) -> OutputResult | None:
        """How the output ended (after :meth:`close`), else ``None``."""
        return self._pending.result

    def _open(self) -> None:
        try:
            self._container, self._stream = _open_stream(self._pending.temp, self._suffix, self._rate, self.size)
        except Exception as exc:  # FFmpeg and OS errors: the file cannot be made
            self._pending.temp.unlink(missing_ok=True)
            raise OutputError(f"cannot open video for writing: {self.path} ({exc})") from None

    def write(self, image: np.ndarray) -> None:
        """Append one BGR ``(H, W, 3)`` uint8 frame (resized to ``size`` if needed). Raises
        :class:`OutputError` if it cannot be written (e.g. the disk is full)."""
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        if self._image_mode:
            self._last = image
            self.frames += 1
            return
        import av

        if self._container is None:
            self._open()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image, dtype=np.uint8), format="bgr24")
        frame.pts = self.frames
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except Exception as exc:
            raise OutputError(f"cannot write video: {self.path} ({exc}; is the disk full?)") from None
        self.frames += 1

    def close(self, partial: bool = False) -> OutputResult:
        """Finish the file: flush the encoder, close the container, rename it into place (or
        remove it if no frame was written). ``partial``: the run was cut short (reported in
        the result). Safe to call twice. Raises :class:`OutputError` if finishing fails (the
        frames already written are kept, the result says partial)."""
        if self._pending.result is not None:
            return self._pending.result
        failure = None
        if self._container is not None:
            container, self._container = self._container, None
            try:
                for packet in self._stream.encode(None):
                    container.mux(packet)
            except Exception as exc:
                failure = exc
            finally:
                try:
                    container.close()
                except Exception as exc:
                    failure = failure or exc
        if self._image_mode and self._last is not None:
            last, self._last = self._last, None
            if not cv2.imwrite(str(self._pending.temp), last):
                self._pending.discard()
                raise OutputError(f"cannot write image: {self.path}")
        result = self._pending.finish(self.frames, partial=partial or failure is not None)
        if failure is not None:
            raise OutputError(f"cannot finish video: {self.path} ({failure}); {result.describe()}")
        return result

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(partial=exc_type is not None)
