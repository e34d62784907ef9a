"""Import OpenCV once, with FFmpeg's and OpenCV's own console logging silenced so that
errors reach users as arpose's one-line messages rather than native log spam."""

from __future__ import annotations

import os

os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_VIDEOIO_DEBUG", "0")

import cv2  # noqa: E402

try:
    cv2.setLogLevel(0)
except AttributeError:  # pragma: no cover - very old OpenCV
    pass

__all__ = ["cv2"]
