"""Foot grounding: estimate the floor, detect foot contacts, and pin planted feet.

Frame: the *world* of :class:`~arpose.retarget.BodyPose` (metres, +Y up = the camera's up).
The floor is the plane ``y = floor_height``, which assumes a level camera; a tilted camera
makes the floor slope in this frame, and the sliding-window estimate only follows it slowly.

Per frame and foot (sole points: heel and toe tip on the posed skeleton):

* floor: a low percentile (``floor_percentile``) of the lowest sole point over the last
  ``floor_window`` seconds (uncorrected values, frames with visible feet);
* contact: height above the floor below ``contact_height`` and horizontal speed (low-passed
  with time constant ``speed_smoothing``) below ``contact_speed`` to enter; above
  ``release_height`` or ``release_speed`` to leave (hysteresis, no flicker). The speed gates
  are loose: the world-space speed of a planted foot seen in real video is 0.2-1.5 m/s of
  noise, mostly the fitted depth;
* correction: a translation of the whole body. While a foot is planted its horizontal position
  is pinned to where it landed (the anchor slowly follows the measurement with time constant
  ``anchor_follow`` so errors cannot accumulate without bound), and the lowest planted sole
  point is put on the floor. With no foot planted the correction fades out with time constant
  ``release_fade``. Rotations are never changed.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from ..landmarks import PoseLandmark as L
from ..skeleton import BONE_INDEX, MARKER_OFFSETS, REST_OFFSETS
from ..stats import SampleStats
from .body import BodyPose
from .geometry import dots, quats_to_matrices

FEET = ("Left", "Right")
_FOOT_BONES = tuple(BONE_INDEX[f"{s}Foot"] for s in FEET)


@dataclass(frozen=True)
class GroundingConfig:
    """Thresholds in metres, metres per second and seconds (see module doc)."""

    floor_window: float = 4.0
    floor_percentile: float = 10.0
    contact_height: float = 0.04
    contact_speed: float = 1.0
    release_height: float = 0.08
    release_speed: float = 2.0
    anchor_follow: float = 2.0
    release_fade: float = 0.3
    vertical_smoothing: float = 0.05
    speed_smoothing: float = 0.1
    min_confidence: float = 0.5


_FOOT_INDEX = np.array(_FOOT_BONES)
_SHIN_BONES = np.array([BONE_INDEX[f"{s}LowerLeg"] for s in FEET])
_TOE_BONES = np.array([BONE_INDEX[f"{s}Toes"] for s in FEET])
_TOE_REST_LENGTH = np.linalg.norm(REST_OFFSETS[_TOE_BONES], axis=1)
#: ``(2, 2, 3)``: (left, right) x (heel, foot index) marker offsets in the foot's frame.
_SOLE_MARKERS = MARKER_OFFSETS[[[L[f"{s.upper()}_HEEL"], L[f"{s.upper()}_FOOT_INDEX"]] for s in FEET]]


def sole_points(body: BodyPose, global_rotations: np.ndarray) -> np.ndarray:
    """``(2, 2, 3)``: (left, right) x (heel, toe tip) positions on the posed skeleton, metres,
    *world*. global_rotations: ``(B, 4)`` global bone rotations ``(x, y, z, w)``."""
    mats = quats_to_matrices(np.asarray(global_rotations)[_FOOT_INDEX])
    toes = np.asarray(body.offsets)[_TOE_BONES]
    scale = np.sqrt(dots(toes, toes)) / _TOE_REST_LENGTH
    return body.positions[_FOOT_INDEX][:, None] + np.einsum("fij,fkj->fki", mats, _SOLE_MARKERS * scale[:, None, None])


def _percentile_of_sorted(a: list[float], q: float) -> float:
    """``np.percentile(a, q)`` (its default linear method, same arithmetic) of a non-empty
    list already in ascending order."""
    n, f = len(a), q / 100
    v = n * f + (1 + f * (1 - 1 - 1)) - 1  # numpy's virtual index (alpha = beta = 1)
    if v >= n - 1:
        return a[-1]
    if v < 0:
        return a[0]
    i = math.floor(v)
    lo, hi, g = a[i], a[i + 1], v - i
    d = hi - lo
    return hi - d * (1 - g) if g >= 0.5 else lo + d * g


_STAT_NAMES = ("speed_before", "speed_after", "height_before", "height_after")


@dataclass
class GroundingStats:
    """Per contact frame and foot: horizontal speed (m/s) and |height above floor| (m), raw
    (before) and corrected (after), each a bounded :class:`~arpose.stats.SampleStats` (exact
    up to its capacity, a uniform sample after that)."""

    speed_before: SampleStats = field(default_factory=SampleStats)
    speed_after: SampleStats = field(default_factory=SampleStats)
    height_before: SampleStats = field(default_factory=SampleStats)
    height_after: SampleStats = field(default_factory=SampleStats)

    def extend(self, other: "GroundingStats") -> None:
        """Add another person's samples (:meth:`SampleStats.merge`)."""
        for name in _STAT_NAMES:
            getattr(self, name).merge(getattr(other, name))

    def summary(self) -> dict[str, float]:
        """``contact_samples`` (the true count) and, over the finite samples, medians and 95th
        percentiles (NaN if no contact frames; accuracy in :mod:`arpose.stats`)."""
        out = {"contact_samples": float(self.speed_before.count)}
        for name in _STAT_NAMES:
            a = np.asarray(getattr(self, name), dtype=np.float64)
            a = a[np.isfinite(a)]
            out[f"{name}_median"] = float(np.median(a)) if a.size else float("nan")
            out[f"{name}_p95"] = float(np.percentile(a, 95)) if a.size else float("nan")
        return out


class FootGrounder:
    """Stateful grounding for one person (module doc). Call :meth:`update` once per frame."""

    def __init__(self, config: GroundingConfig = GroundingConfig()) -> None:
        self.config = config
        self._history: deque[tuple[float, float]] = deque()  # (time, lowest sole point)
        self._sorted: list[float] = []  # the history's heights, ascending
        self._nans = 0  # NaN heights in the history
        self._last_t: float | None = None
        self._last_raw: np.ndarray | None = None  # (2, 3) raw foot centres
        self._last_after: np.ndarray | None = None  # (2, 3) corrected foot centres
        self._speed = np.full(2, np.nan)  # low-passed horizontal foot speed, m/s
        self._contact = np.zeros(2, dtype=bool)
        self._anchor = np.full((2, 3), np.nan)
        self._offset = np.zeros(3)
        self.floor = float("nan")
        self.stats = GroundingStats()

    def update(self, body: BodyPose, global_rotations: np.ndarray, timestamp: float) -> BodyPose:
        """Return ``body`` translated so planted feet stay put on the floor, with
        ``foot_contact`` and ``floor_height`` filled in."""
        cfg = self.config
        if not np.all(np.isfinite(body.root_position)):
            return replace(body, foot_contact=np.zeros(2, dtype=bool), floor_height=self.floor)
        dt = timestamp - self._last_t if self._last_t is not None else float("nan")
        if not (dt > 0):
            dt = float("nan")
        soles = sole_points(body, global_rotations)
        low = soles[:, :, 1].min(axis=1)  # (2,) lowest sole point per foot
        centre = (soles[:, 0] + soles[:, 1]) / 2  # (2, 3)
        conf = np.asarray(body.bone_confidence)
        seen = np.minimum(conf[_FOOT_INDEX], conf[_SHIN_BONES]) >= cfg.min_confidence
        if seen.any():
            h = float(low[seen].min())
            self._history.append((timestamp, h))
            if h == h:
                bisect.insort(self._sorted, h)
            else:
                self._nans += 1
        while self._history and self._history[0][0] < timestamp - cfg.floor_window:
            _, h = self._history.popleft()
            if h == h:
                del self._sorted[bisect.bisect_left(self._sorted, h)]
            else:
                self._nans -= 1
        if self._history:
            self.floor = _percentile_of_sorted(self._sorted, cfg.floor_percentile) if not self._nans else float("nan")
        height = low - self.floor
        raw_speed = [float("nan")] * 2
        if self._last_raw is not None and math.isfinite(dt):
            step = (centre - self._last_raw)[:, ::2]  # horizontal (x, z)
            raw = np.sqrt(np.einsum("fi,fi->f", step, step)) / dt
            a = 1.0 - math.exp(-dt / cfg.speed_smoothing)
            self._speed = np.where(np.isfinite(self._speed), self._speed + a * (raw - self._speed), raw)
            raw_speed = raw.tolist()
        speed, hgt, contact = self._speed.tolist(), height.tolist(), self._contact.tolist()

        # Contacts with hysteresis (an unknown speed neither enters nor leaves).
        for f, is_seen in enumerate(seen.tolist()):
            h, v = hgt[f], speed[f]
            if not is_seen or not math.isfinite(h):
                contact[f] = False
            elif contact[f]:
                if h > cfg.release_height or (math.isfinite(v) and v > cfg.release_speed):
                    contact[f] = False
            elif h < cfg.contact_height and math.isfinite(v) and v < cfg.contact_speed:
                contact[f] = True
                self._anchor[f] = centre[f] + self._offset
            if not contact[f]:
                self._anchor[f] = np.nan
        self._contact = np.array(contact)

        # The correction (a translation of the whole body).
        planted = [f for f in range(2) if contact[f]]
        if planted:  # plain floats: one or two feet, x and z
            anchor, at = self._anchor.tolist(), centre.tolist()
            if math.isfinite(dt):  # anchors slowly follow the measurement: no unbounded drift
                k = 1.0 - math.exp(-dt / cfg.anchor_follow)
                for f in planted:
                    for i in (0, 2):
                        anchor[f][i] += k * (at[f][i] - anchor[f][i])
                self._anchor = np.array(anchor)
            target_x, target_z = (sum(anchor[f][i] - at[f][i] for f in planted) / len(planted) for i in (0, 2))
            target_y = self.floor - min(float(low[f]) for f in planted)
            ky = 1.0 - math.exp(-dt / cfg.vertical_smoothing) if math.isfinite(dt) else 1.0
            self._offset[::2] = target_x, target_z
            self._offset[1] += ky * (target_y - self._offset[1])
        elif math.isfinite(dt):
            self._offset *= math.exp(-dt / cfg.release_fade)

        after = centre + self._offset
        if math.isfinite(dt) and self._last_after is not None and planted:
            step = (after - self._last_after)[:, ::2]
            speed_after = (np.sqrt(np.einsum("fi,fi->f", step, step)) / dt).tolist()
            off_y = float(self._offset[1])
            for f in planted:
                self.stats.speed_before.add(raw_speed[f])
                self.stats.speed_after.add(speed_after[f])
                self.stats.height_before.add(abs(hgt[f]))
                self.stats.height_after.add(abs(hgt[f] + off_y))
        self._last_t, self._last_raw, self._last_after = timestamp, centre, after
        return replace(
            body,
            root_position=body.root_position + self._offset,
            positions=body.positions + self._offset,
            foot_contact=self._contact.copy(),
            floor_height=self.floor,
        )
