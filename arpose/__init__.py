"""arpose: camera body tracking for AR props, avatars over OSC/VMC and motion-capture takes.

The pipeline: ``source -> estimate -> smooth -> retarget -> render / broadcast / record``.
See :mod:`arpose.types` for the data contract and frames of reference, :mod:`arpose.spec` for
:class:`PipelineSpec` (what a pipeline does) and :mod:`arpose.build` for
:func:`build_pipeline` (docs/pipeline.md has a ten-line example).
"""

from .build import build_pipeline
from .landmarks import NAMES, PoseLandmark
from .spec import (
    AnglesOutput,
    BvhOutput,
    CameraSpec,
    CsvOutput,
    EstimatorSpec,
    OscOutput,
    OverlaySpec,
    PipelineSpec,
    RetargetSpec,
    RunningMode,
    SmoothSpec,
    TakeOutput,
    TrackingSpec,
    VideoOutput,
    VmcOutput,
)
from .types import Camera, Frame, Person, PoseFrame

__version__ = "0.1.0"


__all__ = [
    "AnglesOutput",
    "BvhOutput",
    "Camera",
    "CameraSpec",
    "CsvOutput",
    "EstimatorSpec",
    "Frame",
    "NAMES",
    "OscOutput",
    "OverlaySpec",
    "Person",
    "PipelineSpec",
    "PoseFrame",
    "PoseLandmark",
    "RetargetSpec",
    "RunningMode",
    "SmoothSpec",
    "TakeOutput",
    "TrackingSpec",
    "VideoOutput",
    "VmcOutput",
    "__version__",
    "build_pipeline",
]
