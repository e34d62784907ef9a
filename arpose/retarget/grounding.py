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

import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from ..skeleton import BONE_INDEX, MARKER_OFFSETS, REST_OFFSETS
from ..landmarks import PoseLandmark as L
from .body import BodyPose
from .geometry import quats_to_matrices

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


def sole_points(body: BodyPose, global_rotations: np.ndarray) -> np.ndarray:
    """``(2, 2, 3)``: (left, right) x (heel, toe tip) positions on the posed skeleton, metres,
    *world*. global_rotations: ``(B, 4)`` global bone rotations ``(x, y, z, w)``."""
    out = np.zeros((2, 2, 3))
    mats = quats_to_matrices(np.asarray(global_rotations)[list(_FOOT_BONES)])
    for f, side in enumerate(FEET):
        i = _FOOT_BONES[f]
        toes = BONE_INDEX[f"{side}Toes"]
        scale = np.linalg.norm(body.offsets[toes]) / np.linalg.norm(REST_OFFSETS[toes])
        for k, lm in enumerate((L[f"{side.upper()}_HEEL"], L[f"{side.upper()}_FOOT_INDEX"])):
            out[f, k] = body.positions[i] + mats[f] @ (MARKER_OFFSETS[lm] * scale)
    return out


@dataclass
class GroundingStats:
    """Per contact frame and foot: horizontal speed (m/s) and |height above floor| (m), raw
    (before) and corrected (after)."""

    speed_before: list = field(default_factory=list)
    speed_after: list = field(default_factory=list)
    height_before: list = field(default_factory=list)
    height_after: list = field(default_factory=list)

    def extend(self, other: "GroundingStats") -> None:
        """Append another person's samples."""
        for name in ("speed_before", "speed_after", "height_before", "height_after"):
            getattr(self, name).extend(getattr(other, name))

    def summary(self) -> dict[str, float]:
        """Medians and 95th percentiles (NaN if no contact frames)."""
        out = {"contact_samples": float(len(self.speed_before))}
        for name in ("speed_before", "speed_after", "height_before", "height_after"):
            a = np.asarray(getattr(self, name), dtype=np.float64)
            a = a[np.isfinite(a)]
            out[f"{name}_median"] = float(np.median(a)) if a.size else float("nan")
            out[f"{name}_p95"] = float(np.percentile(a, 95)) if a.size else float("nan")
        return out


class FootGrounder:
    """Stateful grounding for one person (module doc). Call :meth:`update` once per frame."""

    def __init__(self, config: GroundingConfig = GroundingConfig()) -> None:
        self.config = config
        self._history: deque[tuple[float, float]] = deque()
        self._last_t: float | None = None
        self._last_raw: np.ndarray | None = None      # (2, 3) raw foot centres
        self._last_after: np.ndarray | None = None    # (2, 3) corrected foot centres
        self._speed = np.full(2, np.nan)               # low-passed horizontal foot speed, m/s
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
        low = soles[:, :, 1].min(axis=1)                        # (2,) lowest sole point per foot
        centre = soles.mean(axis=1)                              # (2, 3)
        seen = np.array([min(body.bone_confidence[BONE_INDEX[f"{s}Foot"]],
                             body.bone_confidence[BONE_INDEX[f"{s}LowerLeg"]]) >= cfg.min_confidence
                         for s in FEET])
        if seen.any():
            self._history.append((timestamp, float(low[seen].min())))
        while self._history and self._history[0][0] < timestamp - cfg.floor_window:
            self._history.popleft()
        if self._history:
            self.floor = float(np.percentile([h for _, h in self._history], cfg.floor_percentile))
        height = low - self.floor
        raw_speed = np.full(2, np.nan)
        if self._last_raw is not None and np.isfinite(dt):
            raw_speed = np.linalg.norm((centre - self._last_raw)[:, [0, 2]], axis=1) / dt
            a = 1.0 - math.exp(-dt / cfg.speed_smoothing)
            self._speed = np.where(np.isfinite(self._speed), self._speed + a * (raw_speed - self._speed), raw_speed)
        speed = self._speed

        # Contacts with hysteresis (an unknown speed neither enters nor leaves).
        for f in range(2):
            if not seen[f] or not np.isfinite(height[f]):
                self._contact[f] = False
            elif self._contact[f]:
                if height[f] > cfg.release_height or (np.isfinite(speed[f]) and speed[f] > cfg.release_speed):
                    self._contact[f] = False
            elif height[f] < cfg.contact_height and np.isfinite(speed[f]) and speed[f] < cfg.contact_speed:
                self._contact[f] = True
                self._anchor[f] = centre[f] + self._offset
            if not self._contact[f]:
                self._anchor[f] = np.nan

        # The correction (a translation of the whole body).
        target = self._offset.copy()
        planted = np.flatnonzero(self._contact)
        if planted.size:
            if np.isfinite(dt):
                k = 1.0 - math.exp(-dt / cfg.anchor_follow)
                for f in planted:   # anchors slowly follow the measurement: no unbounded drift
                    self._anchor[f, [0, 2]] += k * (centre[f, [0, 2]] - self._anchor[f, [0, 2]])
            target[[0, 2]] = np.mean([self._anchor[f, [0, 2]] - centre[f, [0, 2]] for f in planted], axis=0)
            target[1] = self.floor - float(low[planted].min())
            ky = 1.0 - math.exp(-dt / cfg.vertical_smoothing) if np.isfinite(dt) else 1.0
            self._offset[[0, 2]] = target[[0, 2]]
            self._offset[1] += ky * (target[1] - self._offset[1])
        elif np.isfinite(dt):
            self._offset *= math.exp(-dt / cfg.release_fade)

        after = centre + self._offset
        if np.isfinite(dt) and self._last_after is not None:
            speed_after = np.linalg.norm((after - self._last_after)[:, [0, 2]], axis=1) / dt
            for f in planted:
                self.stats.speed_before.append(float(raw_speed[f]))
                self.stats.speed_after.append(float(speed_after[f]))
                self.stats.height_before.append(abs(float(height[f])))
                self.stats.height_after.append(abs(float(height[f] + self._offset[1])))
        self._last_t, self._last_raw, self._last_after = timestamp, centre, after
        return replace(
            body,
            root_position=body.root_position + self._offset,
            positions=body.positions + self._offset,
            foot_contact=self._contact.copy(),
            floor_height=self.floor,
        )
