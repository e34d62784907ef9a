"""Frame sources: webcam, video file, single image, folder of images (and the synthetic
performer, :mod:`arpose.performer`). Every source yields :class:`arpose.types.Frame` objects
with strictly increasing timestamps.
"""

from .sources import (
    IMAGE_EXTENSIONS,
    CameraSource,
    FolderSource,
    ImageSource,
    LoopSource,
    Source,
    VideoSource,
    open_source,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "CameraSource",
    "FolderSource",
    "ImageSource",
    "LoopSource",
    "Source",
    "VideoSource",
    "open_source",
]
