"""Stable person ids across frames: a thin stateful tracker around :mod:`arpose.track.assign`.

Each frame, every live track's landmarks are moved forward by the track's own velocity (box
centre, pixels/second, low-passed) to the frame's timestamp, then matched to the detections
by landmark and box distance (Hungarian). Matched detections take the track's id; unmatched
ones start new ids (never reused); tracks unseen for more than ``max_gap`` seconds end, so a
person occluded for less than that keeps their id when they reappear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..types import Frame, Person, PoseFrame
from .assign import assign, box_of, cost_matrix, visible_points


@dataclass(frozen=True)
class TrackerConfig:
    """Settings of :class:`Tracker`.

    max_gap: seconds a person may go undetected (occlusion, missed detection) and still keep
        their id; longer and they get a new id when seen again. 1.5 s covers one walker
        passing behind another (about a second at walking speeds).
    max_cost: largest matching cost accepted (see :func:`arpose.track.assign.cost_matrix`:
        landmark distance in body diagonals plus ``1 - IoU``). Same person frame to frame is
        typically 0.1-0.4; different people well apart are above 2.
    landmark_weight, box_weight: weights of the two cost terms.
    min_visibility: landmarks below this visibility are ignored when matching.
    velocity_alpha: weight of the newest velocity measurement in (0, 1] (1 = no low-pass).
    """

    max_gap: float = 1.5
    max_cost: float = 1.5
    landmark_weight: float = 1.0
    box_weight: float = 1.0
    min_visibility: float = 0.5
    velocity_alpha: float = 0.5

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_gap) and self.max_gap >= 0):
            raise ConfigError(f"tracker max_gap must be seconds >= 0, got {self.max_gap!r}")
        if not (self.max_cost > 0):
            raise ConfigError(f"tracker max_cost must be > 0, got {self.max_cost!r}")
        if self.landmark_weight < 0 or self.box_weight < 0 or self.landmark_weight + self.box_weight <= 0:
            raise ConfigError("tracker landmark_weight and box_weight must be >= 0 and not both 0")
        if not (0.0 <= self.min_visibility <= 1.0):
            raise ConfigError(f"tracker min_visibility must be in [0, 1], got {self.min_visibility!r}")
        if not (0.0 < self.velocity_alpha <= 1.0):
            raise ConfigError(f"tracker velocity_alpha must be in (0, 1], got {self.velocity_alpha!r}")


@dataclass
class _Track:
    id: int
    points: np.ndarray  # (33, 2) pixels at last_seen, NaN where not visible
    last_seen: float  # seconds
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # box centre, px/s
    hits: int = 1

    def predicted(self, t: float) -> np.ndarray:
        return self.points + self.velocity * max(t - self.last_seen, 0.0)


def _centre(points: np.ndarray) -> np.ndarray:
    box = box_of(points)
    return (box[:2] + box[2:]) / 2.0


class Tracker:
    """Assigns stable ``Person.id`` values over a sequence of :class:`PoseFrame` objects.

    ``update(pose_frame)`` returns a new frame result whose people carry track ids (sorted by
    id); the input is not changed. Timestamps must not decrease; call :meth:`reset` between
    unrelated sequences.
    """

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._last_t: float | None = None

    @property
    def active_ids(self) -> list[int]:
        """Ids of the tracks still alive (seen within ``max_gap``)."""
        return [t.id for t in self._tracks]

    def update(self, pose_frame: PoseFrame) -> PoseFrame:
        cfg = self.config
        t = float(pose_frame.timestamp)
        if self._last_t is not None and t < self._last_t:
            self.reset()  # time went backwards: a new sequence
        self._last_t = t
        self._tracks = [tr for tr in self._tracks if t - tr.last_seen <= cfg.max_gap]
        size = pose_frame.frame.size
        points = [visible_points(p.landmarks, size, cfg.min_visibility) for p in pose_frame.people]
        cost = cost_matrix([tr.predicted(t) for tr in self._tracks], points, cfg.landmark_weight, cfg.box_weight)
        pairs, _, new = assign(cost, cfg.max_cost)
        ids: dict[int, int] = {}
        for ti, di in pairs:
            self._refresh(self._tracks[ti], points[di], t)
            ids[di] = self._tracks[ti].id
        for di in new:
            if not np.isfinite(points[di]).any():
                continue  # nothing visible to track by; still reported below
            self._tracks.append(_Track(id=self._next_id, points=points[di], last_seen=t))
            ids[di] = self._next_id
            self._next_id += 1
        people = []
        for di, person in enumerate(pose_frame.people):
            if di not in ids:  # untrackable (no visible landmark): a fresh id, never reused
                ids[di] = self._next_id
                self._next_id += 1
            people.append(person.with_(id=ids[di]))
        people.sort(key=lambda p: p.id)
        return pose_frame.with_people(people)

    def _refresh(self, track: _Track, points: np.ndarray, t: float) -> None:
        dt = t - track.last_seen
        if dt > 0:
            step = (_centre(points) - _centre(track.points)) / dt
            if np.isfinite(step).all():
                a = self.config.velocity_alpha
                track.velocity = step if track.hits == 1 else a * step + (1 - a) * track.velocity
        # keep the last known position of landmarks hidden in this frame, moved with the body
        moved = track.predicted(t)
        track.points = np.where(np.isfinite(points), points, moved)
        track.last_seen = t
        track.hits += 1


def ids_left_to_right(pose_frame: PoseFrame) -> PoseFrame:
    """People of an unrelated still numbered 0, 1, ... from the image's left (by the centre of
    their landmarks' box), for images where tracking across frames means nothing."""

    def key(p: Person) -> float:
        x = p.landmarks[:, 0]
        x = x[np.isfinite(x)]
        return float((x.min() + x.max()) / 2) if x.size else math.inf

    order = sorted(pose_frame.people, key=key)
    return pose_frame.with_people([p.with_(id=i) for i, p in enumerate(order)])


class TrackStage:
    """Pipeline stage: sets ``Person.id`` with a :class:`Tracker` (sequences) or numbers people
    left to right (``sequence=False``, unrelated stills)."""

    name = "track"

    def __init__(self, config: TrackerConfig = TrackerConfig(), sequence: bool = True) -> None:
        self.sequence = sequence
        self.tracker = Tracker(config)

    def process(self, pose_frame: PoseFrame) -> PoseFrame:
        return self.tracker.update(pose_frame) if self.sequence else ids_left_to_right(pose_frame)


class TrackingEstimator:
    """An estimator whose people carry stable ids: ``estimator.process(frame)`` then a
    :class:`TrackStage`. Stages after it (smoothing, retargeting, takes, streams) key their
    per-person state by these ids."""

    def __init__(self, estimator, config: TrackerConfig = TrackerConfig(), sequence: bool = True) -> None:
        self.estimator = estimator
        self.stage = TrackStage(config, sequence)

    @property
    def config(self):
        return self.estimator.config

    def process(self, frame: Frame) -> PoseFrame:
        return self.stage.process(self.estimator.process(frame))

    def close(self) -> None:
        self.estimator.close()

    def __enter__(self) -> "TrackingEstimator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
