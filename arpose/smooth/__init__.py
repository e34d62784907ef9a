"""Smoothing stage: time-based One Euro filtering of every person's landmarks.

* :mod:`.one_euro`: the vectorised filter (pure :func:`one_euro_step` + :class:`OneEuroFilter`).
* :mod:`.person`: one person's image + world landmarks, visibility-aware, reset after a gap.
* :mod:`.stage`: :class:`SmoothStage`, the pipeline stage ``smooth`` (one state per person id).
"""

from .one_euro import OneEuroFilter, OneEuroParams, OneEuroState, one_euro_step, smoothing_factor
from .person import (
    MEDIAPIPE_IMAGE,
    MEDIAPIPE_WORLD,
    PersonSmoother,
    PersonSmoothState,
    SmoothConfig,
    smooth_person,
)
from .stage import SmoothStage

__all__ = [
    "MEDIAPIPE_IMAGE",
    "MEDIAPIPE_WORLD",
    "OneEuroFilter",
    "OneEuroParams",
    "OneEuroState",
    "PersonSmoother",
    "PersonSmoothState",
    "SmoothConfig",
    "SmoothStage",
    "one_euro_step",
    "smooth_person",
    "smoothing_factor",
]
