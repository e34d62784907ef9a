"""One person's landmark smoothing: image and world landmarks, visibility-aware, with resets.

Per person and frame (:func:`smooth_person`, pure):

* **Image landmarks** ``(33, 5)`` ``[x, y, z, visibility, presence]``: x, y, z are filtered in
  *pixels* (``x * W, y * H, z * W``, as MediaPipe does, so non-square images are isotropic)
  with :attr:`SmoothConfig.image`. Speeds are divided by the pose's size (torso diagonal in
  pixels, :func:`arpose.landmarks.torso_size`): ``beta`` acts on torso sizes per second,
  so near and far people get the same smoothing.
* **World landmarks** ``(33, 3)`` metres (MediaPipe world frame): x and y (across the image)
  with :attr:`SmoothConfig.world`, z (depth, away from the camera) with
  :attr:`SmoothConfig.world_depth`; speeds in m/s, no scaling. BlazePose's depth is far
  noisier than its x/y (on the synthetic performer the depth axis carries 2-3x the
  frame-to-frame acceleration of x or y while the true motion is mostly across the image),
  so depth gets its own, heavier smoothing.
* A landmark's filtered coordinates share one cutoff (speed = norm of its velocity over those
  coordinates), so a diagonal motion keeps its direction.
* **Visibility-aware**: a landmark whose *raw* visibility is under
  :attr:`SmoothConfig.visibility_threshold` does not follow the estimate at the adaptive rate;
  its cutoff is capped at :attr:`SmoothConfig.hidden_cutoff` Hz (0 holds it still), so an
  occluded or off-image point that the model guesses wildly does not jump. Image and world
  landmarks use the same gate.
* Visibility and presence are low-passed at :attr:`SmoothConfig.visibility_cutoff` Hz.
* NaN input elements stay NaN in the output and leave the state untouched.
* **Reset**: if the person was last seen more than :attr:`SmoothConfig.reset_gap` seconds ago
  the past is forgotten (the first frame after passes through unchanged).

Timestamps are the frames' real times in seconds; they must strictly increase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..landmarks import NUM_LANDMARKS, PRESENCE, VISIBILITY, torso_size
from ..types import Person
from .one_euro import OneEuroParams, OneEuroState, _check_rate, one_euro_step

__all__ = [
    "SmoothConfig",
    "PersonSmoothState",
    "smooth_person",
    "PersonSmoother",
    "MEDIAPIPE_WORLD",
    "MEDIAPIPE_IMAGE",
    "DEFAULT_WORLD",
    "DEFAULT_WORLD_DEPTH",
    "DEFAULT_IMAGE",
]

#: MediaPipe's pose_landmark_filtering graph: world landmarks (m/s, unscaled).
MEDIAPIPE_WORLD = OneEuroParams(min_cutoff=0.1, beta=40.0, d_cutoff=1.0)
#: MediaPipe's image landmark parameters (MediaPipe scales speeds by the landmarks' bounding box
#: size ``(w + h) / 2``; we scale by the torso diagonal, about half of that for a standing body).
MEDIAPIPE_IMAGE = OneEuroParams(min_cutoff=0.05, beta=80.0, d_cutoff=1.0)

#: Our defaults, tuned on the synthetic performer at 30 fps (docs/smoothing.md, GUIDE section 4):
#: x/y of world landmarks lightly (BlazePose's x/y are steady), depth heavily (it is noisy and
#: mostly still), image landmarks in between.
DEFAULT_WORLD = OneEuroParams(min_cutoff=6.0, beta=10.0, d_cutoff=1.0)
DEFAULT_WORLD_DEPTH = OneEuroParams(min_cutoff=1.0, beta=0.5, d_cutoff=1.0)
DEFAULT_IMAGE = OneEuroParams(min_cutoff=2.0, beta=10.0, d_cutoff=1.0)


@dataclass(frozen=True)
class SmoothConfig:
    """Settings of the landmark smoother (one set shared by every person).

    world: One Euro parameters for world landmarks' x and y (speeds in m/s).
    world_depth: One Euro parameters for world landmarks' z (depth, m/s).
    image: One Euro parameters for image landmarks (speeds in torso sizes per second).
    visibility_threshold: in [0, 1]; landmarks whose raw visibility is below it ease at
        ``hidden_cutoff`` instead of following the estimate. 0 disables the gate.
    hidden_cutoff: Hz (>= 0), cap on the cutoff of low-visibility landmarks; 0 holds them.
    visibility_cutoff: Hz (> 0), low-pass cutoff of the visibility and presence columns.
    reset_gap: seconds (>= 0); a person unseen for longer than this starts afresh.
    """

    world: OneEuroParams = DEFAULT_WORLD
    world_depth: OneEuroParams = DEFAULT_WORLD_DEPTH
    image: OneEuroParams = DEFAULT_IMAGE
    visibility_threshold: float = 0.5
    hidden_cutoff: float = 2.0
    visibility_cutoff: float = 0.5
    reset_gap: float = 0.5

    def __post_init__(self) -> None:
        for name in ("world", "world_depth", "image"):
            if not isinstance(getattr(self, name), OneEuroParams):
                raise ConfigError(f"smooth {name} parameters must be OneEuroParams, got {getattr(self, name)!r}")
        vt = _check_rate("visibility_threshold", self.visibility_threshold)
        if vt > 1.0:
            raise ConfigError(f"visibility_threshold must be in [0, 1], got {self.visibility_threshold!r}")
        object.__setattr__(self, "visibility_threshold", vt)
        object.__setattr__(self, "hidden_cutoff", _check_rate("hidden_cutoff", self.hidden_cutoff))
        vc = _check_rate("visibility_cutoff", self.visibility_cutoff)
        if vc <= 0.0:
            raise ConfigError(f"visibility_cutoff must be > 0 Hz, got {self.visibility_cutoff!r}")
        object.__setattr__(self, "visibility_cutoff", vc)
        object.__setattr__(self, "reset_gap", _check_rate("reset_gap", self.reset_gap))


@dataclass(frozen=True)
class PersonSmoothState:
    """One person's filter memory.

    image: state over ``(33, 3)`` pixel coordinates; world: over ``(33, 2)`` metres (x, y);
    world_depth: over ``(33, 1)`` metres (z);
    visibility: over ``(33, 2)`` ``[visibility, presence]``; scale: last valid torso size in
    pixels; t: seconds, time of the last frame this person was seen.
    """

    image: OneEuroState
    world: OneEuroState
    world_depth: OneEuroState
    visibility: OneEuroState
    scale: float
    t: float


def _pose_scale(px: np.ndarray, previous: float | None, image_size: tuple[int, int]) -> float:
    """Torso diagonal in pixels; else the previous one; else half the landmarks' bounding box
    size ``(w + h) / 2``; else a quarter of the image height."""
    s = torso_size(px[:, :2])
    if math.isfinite(s) and s > 0.0:
        return s
    if previous is not None and math.isfinite(previous) and previous > 0.0:
        return previous
    xy = px[np.isfinite(px[:, :2]).all(axis=1), :2]
    if len(xy) >= 2:
        ext = xy.max(axis=0) - xy.min(axis=0)
        s = float(ext.sum() / 4.0)
        if s > 0.0:
            return s
    return max(image_size[1] / 4.0, 1.0)


def smooth_person(
    state: PersonSmoothState | None,
    person: Person,
    t: float,
    image_size: tuple[int, int],
    config: SmoothConfig = SmoothConfig(),
) -> tuple[Person, PersonSmoothState]:
    """Smooth one person's landmarks for one frame. Pure: returns ``(person, state)``.

    state: this person's previous state or ``None`` (first sight).
    person: the estimate; ``landmarks`` ``(33, 5)`` normalised image ``[x, y, z, vis, presence]``,
        ``world`` ``(33, 3)`` metres (MediaPipe world frame). Not modified.
    t: the frame's timestamp in seconds (strictly increasing per person).
    image_size: ``(width, height)`` in pixels of the image the landmarks are normalised to.

    Returns a new :class:`Person` whose ``landmarks`` / ``world`` are smoothed (float32, same
    shapes and frames) and whose ``raw_landmarks`` / ``raw_world`` hold the unsmoothed input
    (kept from the input person if a smoother already ran), plus the new state.
    """
    w, h = int(image_size[0]), int(image_size[1])
    if w <= 0 or h <= 0:
        raise ConfigError(f"smooth_person: image size must be positive, got {image_size}")
    lm = np.asarray(person.landmarks, dtype=np.float64)
    world = np.asarray(person.world, dtype=np.float64)
    if lm.shape != (NUM_LANDMARKS, 5) or world.shape != (NUM_LANDMARKS, 3):
        raise ConfigError(
            f"smooth_person: expected landmarks (33, 5) and world (33, 3), got {lm.shape} and {world.shape}"
        )
    if state is not None and t - state.t > config.reset_gap:
        state = None
    to_px = np.array([w, h, w], dtype=np.float64)
    px = lm[:, :3] * to_px
    scale = _pose_scale(px, None if state is None else state.scale, (w, h))

    vis = lm[:, VISIBILITY]
    with np.errstate(invalid="ignore"):
        hidden = vis < config.visibility_threshold  # NaN visibility: not gated
    cap = np.where(hidden, config.hidden_cutoff, np.nan)[:, None]

    px_s, st_img = one_euro_step(
        None if state is None else state.image, px, t, config.image, scale=scale, speed_axis=-1, max_cutoff=cap
    )
    xy_s, st_world = one_euro_step(
        None if state is None else state.world, world[:, :2], t, config.world, speed_axis=-1, max_cutoff=cap
    )
    z_s, st_depth = one_euro_step(
        None if state is None else state.world_depth, world[:, 2:], t, config.world_depth, speed_axis=-1, max_cutoff=cap
    )
    vp_s, st_vis = one_euro_step(
        None if state is None else state.visibility,
        lm[:, [VISIBILITY, PRESENCE]],
        t,
        OneEuroParams(config.visibility_cutoff, 0.0, 1.0),
    )

    out = np.empty((NUM_LANDMARKS, 5), dtype=np.float32)
    out[:, :3] = px_s / to_px
    out[:, VISIBILITY] = vp_s[:, 0]
    out[:, PRESENCE] = vp_s[:, 1]
    new_person = person.with_(
        landmarks=out,
        world=np.concatenate([xy_s, z_s], axis=1).astype(np.float32),
        raw_landmarks=person.raw_landmarks if person.raw_landmarks is not None else person.landmarks,
        raw_world=person.raw_world if person.raw_world is not None else person.world,
    )
    return new_person, PersonSmoothState(st_img, st_world, st_depth, st_vis, scale, float(t))


class PersonSmoother:
    """Thin stateful wrapper of :func:`smooth_person` for one tracked person."""

    def __init__(self, config: SmoothConfig = SmoothConfig()) -> None:
        self.config = config
        self.state: PersonSmoothState | None = None

    def __call__(self, person: Person, t: float, image_size: tuple[int, int]) -> Person:
        out, self.state = smooth_person(self.state, person, t, image_size, self.config)
        return out

    def reset(self) -> None:
        self.state = None
