"""Feature: several people at once (``--max-people``, ``--model``, ``--track-gap``).

Options
-------
``--max-people N``      track up to N people (default 1: the classic single-person BlazePose
                        path, person id 0). N > 1 uses MediaPipe Tasks' PoseLandmarker and the
                        identity tracker, so each person keeps one id across frames.
``--model PATH``        a ``pose_landmarker_{lite,full,heavy}.task`` bundle to use instead of the
                        one built from the wheel's Full model (also with ``--max-people 1``).
``--track-gap SECONDS`` how long a person may be unseen and keep their id (default 1.5).
``--tiles N``           also look for small people in an N x N grid of overlapping tiles
                        (default 1: whole frame only; e.g. 5 for a high camera on a street).

The run / demo / live commands call :func:`make_estimator`; stages keyed by ``Person.id``
(smoothing, retargeting, takes, VMC port + id, raw OSC id) then follow each person.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace

from ..errors import ConfigError

#: Most people accepted by ``--max-people`` (each costs about one landmark inference a frame).
MAX_PEOPLE_LIMIT = 16


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
    group = parser.add_argument_group("several people")
    group.add_argument(
        "--max-people",
        type=int,
        default=1,
        metavar="N",
        help="track up to N people with stable ids (default 1: the single-person path)",
    )
    group.add_argument(
        "--model",
        metavar="PATH",
        help="pose_landmarker_{lite,full,heavy}.task to use (default: the wheel's Full model, "
        "bundled on first use into ~/.cache/arpose)",
    )
    group.add_argument(
        "--track-gap",
        type=float,
        default=1.5,
        metavar="SECONDS",
        help="seconds a person may be unseen and keep their id (default 1.5)",
    )
    group.add_argument(
        "--tiles",
        type=int,
        default=1,
        metavar="N",
        help="with --max-people > 1: also search an N x N grid of overlapping tiles for people "
        "too small for the detector (under ~100 px tall); about N*N times slower (default 1)",
    )


def max_people(args: argparse.Namespace) -> int:
    """The validated ``--max-people`` value; :class:`ConfigError` if out of range."""
    n = getattr(args, "max_people", 1)
    if n is None:
        return 1
    if not (1 <= n <= MAX_PEOPLE_LIMIT):
        raise ConfigError(f"--max-people must be between 1 and {MAX_PEOPLE_LIMIT}, got {n}")
    return int(n)


def tiles(args: argparse.Namespace) -> int:
    """The validated ``--tiles`` value (1 = whole frame only); :class:`ConfigError` if out of
    range or asked for with a single person."""
    n = getattr(args, "tiles", 1)
    n = 1 if n is None else n
    if not (1 <= n <= 8):
        raise ConfigError(f"--tiles must be between 1 and 8, got {n}")
    if n > 1 and max_people(args) == 1:
        raise ConfigError("--tiles needs --max-people 2 or more (tiles look for several small people)")
    return int(n)


def tracker_config(args: argparse.Namespace):
    from ..track import TrackerConfig

    gap = getattr(args, "track_gap", 1.5)
    if gap is None:
        gap = 1.5
    if not (math.isfinite(gap) and gap >= 0):
        raise ConfigError(f"--track-gap must be seconds >= 0, got {gap}")
    return TrackerConfig(max_gap=float(gap))


def make_estimator(args: argparse.Namespace, source, segmentation: bool | None = None):
    """The estimator the options ask for, for ``source`` (tracking when it is a sequence).

    ``--max-people 1`` without ``--model``: the classic :class:`~arpose.estimate.BlazePoseEstimator`.
    Otherwise MediaPipe Tasks (:class:`~arpose.estimate.tasks.MultiPoseEstimator`); with more
    than one person it is wrapped in :class:`~arpose.track.TrackingEstimator` (stills get ids
    0, 1, ... from the image's left). The person mask is on when props need occlusion, or as
    ``segmentation`` says when given (live view: props can be switched on at any time).
    Raises :class:`ConfigError` for bad values, :class:`InputError` for a bad model file.
    """
    from ..estimate import BlazePoseEstimator, EstimatorConfig
    from . import feat_props

    n = max_people(args)
    tracking = bool(getattr(source, "is_sequence", True))
    classic = feat_props.estimator_config(args, EstimatorConfig(tracking=tracking))
    if segmentation is not None:
        classic = replace(classic, segmentation=segmentation)
    model = getattr(args, "model", None)
    track = tracker_config(args)
    grid = tiles(args)
    if n == 1 and not model:
        return BlazePoseEstimator(classic)
    from ..estimate.tasks import MultiPoseConfig, MultiPoseEstimator
    from ..track import TrackingEstimator

    estimator = MultiPoseEstimator(
        MultiPoseConfig(
            max_people=n,
            model=model,
            tracking=tracking,
            min_detection_confidence=classic.min_detection_confidence,
            segmentation=classic.segmentation,
            tiles=grid,
        )
    )
    if n == 1:
        return estimator  # one person: id 0, as on the classic path
    return TrackingEstimator(estimator, track, sequence=tracking)


def stages(args: argparse.Namespace, ctx) -> list:
    max_people(args)  # validate early, before any work
    tracker_config(args)
    tiles(args)
    return []


def sinks(args: argparse.Namespace, ctx) -> list:
    return []
