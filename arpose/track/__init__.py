"""Identity tracking: stable ``Person.id`` values for several people across frames.

:mod:`.assign` holds the pure matching (landmark + box costs, Hungarian assignment);
:mod:`.tracker` the thin stateful :class:`Tracker`, the :class:`TrackStage` and the
:class:`TrackingEstimator` wrapper.
"""

from .assign import assign, box_of, cost_matrix, iou, landmark_distance, visible_points
from .tracker import Tracker, TrackerConfig, TrackingEstimator, TrackStage, ids_left_to_right

__all__ = [
    "TrackStage",
    "Tracker",
    "TrackerConfig",
    "TrackingEstimator",
    "assign",
    "box_of",
    "cost_matrix",
    "ids_left_to_right",
    "iou",
    "landmark_distance",
    "visible_points",
]
