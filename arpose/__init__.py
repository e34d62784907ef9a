"""arpose: camera body tracking for AR props, avatars over OSC/VMC and motion-capture takes.

The pipeline: ``source -> estimate -> smooth -> retarget -> render / broadcast / record``.
See :mod:`arpose.types` for the data contract and frames of reference.
"""

from .landmarks import NAMES, PoseLandmark
from .types import Camera, Frame, Person, PoseFrame

__version__ = "0.1.0"

__all__ = ["Camera", "Frame", "NAMES", "Person", "PoseFrame", "PoseLandmark", "__version__"]
