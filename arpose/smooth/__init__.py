"""Smoothing stage: time-based One Euro filtering of every person's landmarks.

* :mod:`.one_euro`: the vectorised filter (pure :func:`one_euro_step` + :class:`OneEuroFilter`).
* :mod:`.person`: one person's image + world landmarks, visibility-aware, reset after a gap.
* :mod:`.stage`: :class:`SmoothStage`, the pipeline stage ``smooth`` (one state per person id).
* :mod:`.rts`: zero-lag smoothing with future frames (Kalman forward, Rauch-Tung-Striebel
  backward; :func:`rts_smooth`, the bounded-delay :class:`FixedLagSmoother`, and
  :class:`~.rts.AdaptiveFixedLagSmoother`, whose cutoff the data choose by maximum likelihood).
* :mod:`.offline`: one person's landmarks through it (:func:`smooth_sequence`), and
  :class:`OfflineSmoother` for a stream of frames, one smoother per person id.
* :mod:`.deferred`: :class:`SmoothedOutputs`, the data sink that feeds a file run's outputs
  (take, CSV, angles, BVH) from the zero-lag smoother.
"""

from .deferred import SmoothedOutputs
from .offline import OfflineConfig, OfflineSmoother, smooth_sequence
from .one_euro import OneEuroFilter, OneEuroParams, OneEuroState, one_euro_step, smoothing_factor
from .person import (
    MEDIAPIPE_IMAGE,
    MEDIAPIPE_WORLD,
    PersonSmoother,
    PersonSmoothState,
    SmoothConfig,
    smooth_person,
)
from .rts import FixedLagSmoother, rts_smooth
from .stage import SmoothStage

__all__ = [
    "MEDIAPIPE_IMAGE",
    "MEDIAPIPE_WORLD",
    "FixedLagSmoother",
    "OfflineConfig",
    "OfflineSmoother",
    "OneEuroFilter",
    "OneEuroParams",
    "OneEuroState",
    "PersonSmoother",
    "PersonSmoothState",
    "SmoothConfig",
    "SmoothStage",
    "SmoothedOutputs",
    "one_euro_step",
    "rts_smooth",
    "smooth_person",
    "smooth_sequence",
    "smoothing_factor",
]
