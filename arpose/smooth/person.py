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
* **Hands and face** (``Person.hands`` / ``hands_world`` / ``face``, when present): the same
  filter with their own parameters, :attr:`SmoothConfig.hands` and :attr:`SmoothConfig.face`.
  Hand image landmarks are filtered in pixels with speeds in *hand sizes* per second (wrist to
  middle knuckle, in pixels), hand world landmarks in metres with speeds in hand sizes (metres)
  per second, face landmarks in pixels with speeds in *inter-ocular distances* per second, so
  one parameter set fits near and far. Each hand and the face is gated by its confidence
  (``visibility`` column) like a body landmark, NaN stays NaN and leaves the state untouched,
  and a hand or face unseen for more than ``reset_gap`` starts afresh on its own.

Timestamps are the frames' real times in seconds; they must strictly increase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..landmarks import NUM_LANDMARKS, PRESENCE, VISIBILITY, PoseLandmark, torso_size
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
    "DEFAULT_LEG_DEPTH",
    "LEGS",
    "DEFAULT_IMAGE",
    "DEFAULT_HANDS",
    "DEFAULT_FACE",
]

#: MediaPipe's pose_landmark_filtering graph: world landmarks (m/s, unscaled).
MEDIAPIPE_WORLD = OneEuroParams(min_cutoff=0.1, beta=40.0, d_cutoff=1.0)
#: MediaPipe's image landmark parameters (MediaPipe scales speeds by the landmarks' bounding box
#: size ``(w + h) / 2``; we scale by the torso diagonal, about half of that for a standing body).
MEDIAPIPE_IMAGE = OneEuroParams(min_cutoff=0.05, beta=80.0, d_cutoff=1.0)

#: Our defaults, tuned on the synthetic performer at 30 fps (docs/smoothing.md, GUIDE section 4):
#: x/y of world landmarks lightly (BlazePose's x/y are steady), depth heavily (it is noisy and
#: mostly still), image landmarks in between.
DEFAULT_WORLD = OneEuroParams(min_cutoff=4.5, beta=10.0, d_cutoff=1.0)
DEFAULT_WORLD_DEPTH = OneEuroParams(min_cutoff=1.0, beta=0.5, d_cutoff=1.0)
#: Depth of the legs (knees, ankles, heels, toes): a foot swings through depth at a stride's
#: pace (0.67 m per stride walking toward the camera, CMU 12_03), which the body's heavy depth
#: filter lags; here the cutoff opens with speed (15 Hz per m/s) so a swinging foot follows
#: while a still one stays steady (docs/smoothing.md).
DEFAULT_LEG_DEPTH = OneEuroParams(min_cutoff=1.0, beta=15.0, d_cutoff=1.0)
#: The landmarks whose depth uses ``SmoothConfig.leg_depth``: knees to toes.
LEGS = slice(int(PoseLandmark.LEFT_KNEE), int(PoseLandmark.RIGHT_FOOT_INDEX) + 1)
DEFAULT_IMAGE = OneEuroParams(min_cutoff=2.0, beta=10.0, d_cutoff=1.0)
#: Hands: speeds in hand sizes per second (a still hand's fingers at 3 Hz; a finger closing at
#: 5 sizes/s opens the cutoff to 13 Hz).
DEFAULT_HANDS = OneEuroParams(min_cutoff=3.0, beta=2.0, d_cutoff=1.0)
#: Face: speeds in inter-ocular distances per second. A lid closing in a blink moves about 6
#: IOD/s; the speed's own low-pass at 3 Hz lets the cutoff open within a frame or two, so brief
#: blinks keep their depth (on face_blink_headtilt_tfjs.mp4 a 1 Hz speed low-pass or beta 3
#: took the shortest lid drop from 0.58 to 0.49 blink, docs/hands_face.md).
DEFAULT_FACE = OneEuroParams(min_cutoff=3.0, beta=5.0, d_cutoff=3.0)


@dataclass(frozen=True)
class SmoothConfig:
    """Settings of the landmark smoother (one set shared by every person).

    world: One Euro parameters for world landmarks' x and y (speeds in m/s).
    world_depth: One Euro parameters for world landmarks' z (depth, m/s).
    leg_depth: One Euro parameters for the z of the legs' landmarks (:data:`LEGS`: knees,
        ankles, heels, toes; m/s).
    image: One Euro parameters for image landmarks (speeds in torso sizes per second).
    visibility_threshold: in [0, 1]; landmarks whose raw visibility is below it ease at
        ``hidden_cutoff`` instead of following the estimate. 0 disables the gate.
    hidden_cutoff: Hz (>= 0), cap on the cutoff of low-visibility landmarks; 0 holds them.
    visibility_cutoff: Hz (> 0), low-pass cutoff of the visibility and presence columns.
    reset_gap: seconds (>= 0); a person unseen for longer than this starts afresh.
    hands: One Euro parameters for hand landmarks (speeds in hand sizes per second).
    face: One Euro parameters for face landmarks (speeds in inter-ocular distances per second).
    """

    world: OneEuroParams = DEFAULT_WORLD
    world_depth: OneEuroParams = DEFAULT_WORLD_DEPTH
    image: OneEuroParams = DEFAULT_IMAGE
    visibility_threshold: float = 0.5
    hidden_cutoff: float = 2.0
    visibility_cutoff: float = 0.5
    reset_gap: float = 0.5
    hands: OneEuroParams = DEFAULT_HANDS
    face: OneEuroParams = DEFAULT_FACE
    leg_depth: OneEuroParams = DEFAULT_LEG_DEPTH

    def __post_init__(self) -> None:
        for name in ("world", "world_depth", "image", "hands", "face", "leg_depth"):
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
    pixels; t: seconds, time of the last frame this person was seen. hands: over ``(2, 21, 3)``
    pixels; hands_world: over ``(2, 21, 3)`` metres; face: over ``(478, 3)`` pixels; None
    until seen (the confidence column is passed on unfiltered). leg_depth: over ``(8, 1)``
    metres, the z of the :data:`LEGS` landmarks (their entries of ``world_depth`` are unused).
    """

    image: OneEuroState
    world: OneEuroState
    world_depth: OneEuroState
    visibility: OneEuroState
    scale: float
    t: float
    hands: OneEuroState | None = None
    hands_world: OneEuroState | None = None
    face: OneEuroState | None = None
    leg_depth: OneEuroState | None = None


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
    (kept from the input person if a smoother already ran), plus the new state. ``hands``
    ``(2, 21, 4)``, ``hands_world`` ``(2, 21, 3)`` and ``face`` ``(478, 4)``, when not None, are
    smoothed likewise (same shapes and frames; the confidence column unfiltered) and their
    inputs kept in ``raw_hands`` / ``raw_hands_world`` / ``raw_face``.
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
    z_legs, st_legs = one_euro_step(
        None if state is None else state.leg_depth,
        world[LEGS, 2:],
        t,
        config.leg_depth,
        speed_axis=-1,
        max_cutoff=cap[LEGS],
    )
    z_s[LEGS] = z_legs
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
    changes = dict(
        landmarks=out,
        world=np.concatenate([xy_s, z_s], axis=1).astype(np.float32),
        raw_landmarks=person.raw_landmarks if person.raw_landmarks is not None else person.landmarks,
        raw_world=person.raw_world if person.raw_world is not None else person.world,
    )
    st_hands = st_hands_world = st_face = None
    if person.hands is not None:
        changes["hands"], changes["hands_world"], st_hands, st_hands_world = _smooth_hands(
            None if state is None else state.hands,
            None if state is None else state.hands_world,
            person.hands,
            person.hands_world,
            t,
            (w, h),
            config,
        )
        changes["raw_hands"] = person.raw_hands if person.raw_hands is not None else person.hands
        changes["raw_hands_world"] = (
            person.raw_hands_world if person.raw_hands_world is not None else person.hands_world
        )
    if person.face is not None:
        changes["face"], st_face = _smooth_face(None if state is None else state.face, person.face, t, (w, h), config)
        changes["raw_face"] = person.raw_face if person.raw_face is not None else person.face
    new_state = PersonSmoothState(
        st_img, st_world, st_depth, st_vis, scale, float(t), st_hands, st_hands_world, st_face, st_legs
    )
    return person.with_(**changes), new_state


def _forget(state: OneEuroState | None, t: float, gap: float) -> OneEuroState | None:
    """``state`` with the elements last observed more than ``gap`` seconds before ``t``
    forgotten (they restart on their next observation)."""
    if state is None:
        return None
    with np.errstate(invalid="ignore"):
        old = ~(t - state.t <= gap)
    if not old.any():
        return state
    return OneEuroState(np.where(old, np.nan, state.y), np.where(old, 0.0, state.dy), np.where(old, np.nan, state.t))


def _gate(confidence: np.ndarray, config: SmoothConfig) -> np.ndarray:
    """``max_cutoff`` for rows whose confidence is under the visibility threshold (NaN: none)."""
    with np.errstate(invalid="ignore"):
        hidden = confidence < config.visibility_threshold
    return np.where(hidden, config.hidden_cutoff, np.nan)


def _hand_sizes(points: np.ndarray) -> np.ndarray:
    """``(2, 1, 1)`` wrist-to-middle-knuckle length of each hand in ``points`` ``(2, 21, >=2)``
    (its own units), 1 where unknown."""
    d = np.linalg.norm(points[:, 9, :] - points[:, 0, :], axis=-1)
    return np.where(np.isfinite(d) & (d > 0), d, 1.0)[:, None, None]


def _smooth_hands(
    state: OneEuroState | None,
    state_world: OneEuroState | None,
    hands: np.ndarray,
    world: np.ndarray | None,
    t: float,
    size: tuple[int, int],
    config: SmoothConfig,
) -> tuple[np.ndarray, np.ndarray | None, OneEuroState, OneEuroState | None]:
    """Smoothed ``(2, 21, 4)`` hand image landmarks and ``(2, 21, 3)`` world landmarks."""
    w, h = size
    hl = np.asarray(hands, dtype=np.float64)
    to_px = np.array([w, h, w])
    px = hl[..., :3] * to_px
    cap = _gate(hl[:, :1, VISIBILITY : VISIBILITY + 1], config)  # (2, 1, 1): one gate per hand
    y, st = one_euro_step(
        _forget(state, t, config.reset_gap),
        px,
        t,
        config.hands,
        scale=_hand_sizes(px[..., :2]),
        speed_axis=-1,
        max_cutoff=cap,
    )
    out = np.empty(hl.shape, dtype=np.float32)
    out[..., :3] = y / to_px
    out[..., VISIBILITY] = hl[..., VISIBILITY]  # the confidence is passed on as measured
    if world is None:
        return out, None, st, None
    wl = np.asarray(world, dtype=np.float64)
    yw, stw = one_euro_step(
        _forget(state_world, t, config.reset_gap),
        wl,
        t,
        config.hands,
        scale=_hand_sizes(wl),
        speed_axis=-1,
        max_cutoff=cap,
    )
    return out, yw.astype(np.float32), st, stw


def _smooth_face(
    state: OneEuroState | None, face: np.ndarray, t: float, size: tuple[int, int], config: SmoothConfig
) -> tuple[np.ndarray, OneEuroState]:
    """Smoothed ``(478, 4)`` face landmarks (speeds in inter-ocular distances per second)."""
    w, h = size
    fl = np.asarray(face, dtype=np.float64)
    to_px = np.array([w, h, w])
    px = fl[:, :3] * to_px
    eyes = [(33, 133), (263, 362)]  # eye corners (FaceLandmark RIGHT/LEFT_EYE_OUTER/INNER)
    centres = [(px[a, :2] + px[b, :2]) / 2.0 for a, b in eyes]
    iod = float(np.linalg.norm(centres[0] - centres[1]))
    scale = iod if np.isfinite(iod) and iod > 0 else 1.0
    cap = _gate(fl[:1, VISIBILITY : VISIBILITY + 1], config)
    y, st = one_euro_step(
        _forget(state, t, config.reset_gap), px, t, config.face, scale=scale, speed_axis=-1, max_cutoff=cap
    )
    out = np.empty(fl.shape, dtype=np.float32)
    out[:, :3] = y / to_px
    out[:, VISIBILITY] = fl[:, VISIBILITY]
    return out, st


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
