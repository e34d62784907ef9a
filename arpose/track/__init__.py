"""Identity: stable ``Person.id`` values for several people across frames, and left/right
identity for every person.

:mod:`.assign` holds the pure matching (landmark + box costs, Hungarian assignment);
:mod:`.tracker` the thin stateful :class:`Tracker`, the :class:`TrackStage` and the
:class:`TrackingEstimator` wrapper; :mod:`.swaps` the left/right model (pure
:func:`swap_step` and :func:`label_sequence`) and the :class:`SwapStage`.
"""

from .assign import assign, box_of, cost_matrix, iou, landmark_distance, visible_points
from .swaps import (
    LEFT_RIGHT_PAIRS,
    SIDED_BODY,
    SwapConfig,
    SwapStage,
    SwapState,
    exchange_arrays,
    exchange_person,
    label_sequence,
    swap_step,
)
from .tracker import Tracker, TrackerConfig, TrackingEstimator, TrackStage, ids_left_to_right

__all__ = [
    "LEFT_RIGHT_PAIRS",
    "SIDED_BODY",
    "SwapConfig",
    "SwapStage",
    "SwapState",
    "TrackStage",
    "Tracker",
    "TrackerConfig",
    "TrackingEstimator",
    "assign",
    "box_of",
    "cost_matrix",
    "exchange_arrays",
    "exchange_person",
    "ids_left_to_right",
    "iou",
    "label_sequence",
    "landmark_distance",
    "swap_step",
    "visible_points",
]
