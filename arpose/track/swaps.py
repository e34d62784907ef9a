"""Left/right identity: find and undo frames where BlazePose labels the subject's left limbs as
the right ones.

The failure (GUIDE section 3): on a turning, back-facing or head-back body, BlazePose can
return a whole frame *mirror-labelled*: every ``LEFT_*`` landmark sits where the subject's right
one is and vice versa, in the image and in the world landmarks alike, for a run of frames. A
single frame carries no reliable sign of it: the mirror-labelled world skeleton is a
self-consistent body facing the other way (BlazePose even puts the nose behind the ears), and
visibility stays high. So the evidence is temporal:

* **Image continuity.** Each labelled landmark should move a little between frames. A label
  exchange makes every sided landmark jump to where its partner was, across the body. Where
  the two sides overlap in the image (profile views) this term says nothing.
* **Torso yaw continuity (world depth ordering).** The world landmarks give the torso's
  horizontal left-to-right direction (:func:`torso_direction`): which shoulder and hip are
  nearer the camera. A genuine turn carries on at its turn rate; an exchange reverses the
  direction (180 degrees) in one frame. This is the evidence in profile views.
* **Visibility.** Landmarks are weighted by the visibility of both sides in both frames, so an
  occluded limb's guesses count little.

A two-state hidden Markov model combines them. The state of a frame is *as estimated* (0) or
*exchanged* (1); each state keeps its best labelling so far (a survivor path). Going from a
survivor to a state costs the image continuity against each of the last ``lags`` frames
(the "same" cost where the survivor gave that frame the same state, the "cross" cost where
not) plus the yaw residual against the survivor's yaw carried forward at its own turn rate.
Every exchanged frame pays a small ``prior``: BlazePose is right most of the time, so
between two label flips the shorter stretch is the mirrored one, and when the evidence is
silent the labels drift back to BlazePose's own. Comparing with several past frames bridges
the half-flipped frames BlazePose often produces as it enters and leaves a swap. A genuine
turn is continuous, so it is never exchanged.

* Live (:func:`swap_step`, :class:`SwapStage`): a frame's decision is the state with the
  lower forward (Viterbi) cost given the frames so far. **Causal, no added latency**: each
  frame is emitted as it arrives.
* Offline (:func:`label_sequence`): the best path traced back from the last frame of each
  stretch, so later frames may revise a decision.

Correcting a frame exchanges every left/right landmark pair (:data:`LEFT_RIGHT_PAIRS`,
defined once from the landmark names): the image rows ``[x, y, z, visibility, presence]``
and the world rows alike. Unpaired landmarks (the nose) are unchanged.

Arrays: image landmarks ``(33, 5)`` normalised ``[x, y, z, visibility, presence]`` (x, y to the
image width and height); world landmarks ``(33, 3)`` metres, MediaPipe world frame (x image
right, y down, z away from the camera). ``LEFT`` is always the *subject's* left, never the
image's left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InputError
from ..landmarks import MIRROR_PERMUTATION, NUM_LANDMARKS, TORSO, VISIBILITY, PoseLandmark, torso_size
from ..types import Person, PoseFrame

__all__ = [
    "LEFT_RIGHT_PAIRS",
    "SIDED_BODY",
    "SwapConfig",
    "SwapState",
    "SwapStage",
    "image_costs",
    "exchange_arrays",
    "exchange_person",
    "label_sequence",
    "swap_step",
    "torso_direction",
]

#: Every ``(left, right)`` pair of landmarks, from their names (``LEFT_X`` with ``RIGHT_X``,
#: ``MOUTH_LEFT`` with ``MOUTH_RIGHT``): 16 pairs.
LEFT_RIGHT_PAIRS: tuple[tuple[PoseLandmark, PoseLandmark], ...] = tuple(
    (lm, PoseLandmark(int(MIRROR_PERMUTATION[lm]))) for lm in PoseLandmark if "LEFT" in lm.name
)

#: The sided landmarks of the body below the face (shoulders to feet, both sides): the ones
#: whose image continuity is scored. Face points are left out: they are small and close
#: together, and BlazePose moves them with the head's own guesses.
SIDED_BODY: tuple[PoseLandmark, ...] = tuple(
    lm for pair in LEFT_RIGHT_PAIRS for lm in pair if lm >= PoseLandmark.LEFT_SHOULDER
)

_L, _R = PoseLandmark.LEFT_SHOULDER, PoseLandmark.RIGHT_SHOULDER
_LH, _RH = PoseLandmark.LEFT_HIP, PoseLandmark.RIGHT_HIP


@dataclass(frozen=True)
class SwapConfig:
    """Settings of the left/right identity model (one set for every person).

    image_noise: torso sizes; frame-to-frame landmark motion that is surely not a label change
        (estimate noise). image_speed: torso sizes per second; how fast a limb may plausibly
        move. A landmark's displacement ``d`` (torso sizes) over a time step ``dt`` scores
        ``min((d / s)^2, 1)`` with ``s = image_noise + image_speed * dt``.
    max_turn_speed_deg: degrees per second; the fastest genuine body turn (a fast pirouette is
        about 2 turns a second). Turn rates are clipped to it, and the yaw term's weight falls
        to 0 as ``max_turn_speed_deg * dt`` approaches 90 degrees (time steps over 0.125 s at
        the default, e.g. 5 fps video), where a turn cannot be told from an exchange.
    rate_alpha: in [0, 1]; weight of the newest turn-rate measurement in a survivor's low-pass.
    image_weight, yaw_weight: weights of the two terms (each term scores [0, 1] per frame).
    lags: how many past frames (1 to 30) the image term compares with, equally weighted.
    prior: cost of each exchanged frame (>= 0). Between two label flips the state with fewer
        exchanged frames wins; a flip whose evidence is weaker than ``prior`` times the
        frames since the last ambiguous moment is not followed.
    start_cost: cost of starting exchanged, when a person is first seen or after a gap
        (BlazePose's labels are taken then).
    max_gap: seconds; a person unseen for longer starts afresh.
    """

    image_noise: float = 0.08
    image_speed: float = 3.0
    max_turn_speed_deg: float = 720.0
    image_weight: float = 1.0
    yaw_weight: float = 1.0
    prior: float = 0.003
    start_cost: float = 1.0
    max_gap: float = 0.5
    lags: int = 4
    rate_alpha: float = 0.5

    def __post_init__(self) -> None:
        for name in (
            "image_noise",
            "image_speed",
            "max_turn_speed_deg",
            "image_weight",
            "yaw_weight",
            "prior",
            "start_cost",
            "max_gap",
            "rate_alpha",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ConfigError(f"swap {name} must be a finite number >= 0, got {v!r}")
            object.__setattr__(self, name, float(v))
        if isinstance(self.lags, bool) or not isinstance(self.lags, int) or not (1 <= self.lags <= 30):
            raise ConfigError(f"swap lags must be a whole number of frames from 1 to 30, got {self.lags!r}")
        if self.rate_alpha > 1:
            raise ConfigError(f"swap rate_alpha must be in [0, 1], got {self.rate_alpha!r}")
        if self.image_noise <= 0:
            raise ConfigError(f"swap image_noise must be > 0, got {self.image_noise!r}")


def exchange_arrays(landmarks: np.ndarray, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The left/right exchange of one frame: new arrays, inputs unchanged.

    landmarks: ``(..., 33, C)`` image landmarks (any columns, e.g. ``(33, 5)``
    ``[x, y, z, visibility, presence]``); world: ``(..., 33, 3)`` metres. Row ``LEFT_X`` of the
    result is row ``RIGHT_X`` of the input and vice versa (every pair of
    :data:`LEFT_RIGHT_PAIRS`); unpaired rows are copied. Positions stay where they are in the
    image and the world: only which side they are labelled changes.
    """
    lm = np.asarray(landmarks)
    w = np.asarray(world)
    if lm.shape[-2:-1] != (NUM_LANDMARKS,) or w.shape[-2:] != (NUM_LANDMARKS, 3):
        raise InputError(f"exchange_arrays: expected (..., 33, C) and (..., 33, 3), got {lm.shape} and {w.shape}")
    return lm[..., MIRROR_PERMUTATION, :].copy(), w[..., MIRROR_PERMUTATION, :].copy()


def exchange_person(person: Person) -> Person:
    """``person`` with :func:`exchange_arrays` applied to ``landmarks`` and ``world`` (and to
    ``raw_landmarks`` / ``raw_world`` when set). Other fields are shared."""
    lm, w = exchange_arrays(person.landmarks, person.world)
    changes = {"landmarks": lm, "world": w}
    if person.raw_landmarks is not None and person.raw_world is not None:
        changes["raw_landmarks"], changes["raw_world"] = exchange_arrays(person.raw_landmarks, person.raw_world)
    return person.with_(**changes)


def torso_direction(world: np.ndarray) -> tuple[float, float]:
    """The torso's facing as seen from above, from world landmarks.

    world: ``(33, 3)`` metres, MediaPipe world frame. Uses the subject's right-to-left vector
    ``v = (LEFT_SHOULDER - RIGHT_SHOULDER) + (LEFT_HIP - RIGHT_HIP)``. Returns ``(yaw, r)``:
    ``yaw`` radians, the angle of ``v``'s horizontal part ``(x, z)`` from the image's +x axis
    towards +z (away from the camera); a subject facing the camera has yaw 0, one with their
    back to it pi. ``r`` in [0, 1] is the horizontal fraction of ``v`` (1 for an upright torso,
    0 when the shoulders and hips are stacked vertically and yaw means nothing). NaN, 0 when a
    torso point is missing. Exchanging left and right adds pi to ``yaw``.
    """
    w = np.asarray(world, dtype=np.float64)
    v = (w[_L] - w[_R]) + (w[_LH] - w[_RH])
    n = float(np.linalg.norm(v))
    h = math.hypot(v[0], v[2])
    if not (math.isfinite(n) and n > 0):
        return float("nan"), 0.0
    return math.atan2(v[2], v[0]), h / n


def _wrap_deg(a: float) -> float:
    """``a`` degrees wrapped to [-180, 180)."""
    return (a + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class _Observation:
    """What the model keeps of one frame as estimated: t seconds; px ``(33, 2)`` pixels;
    vis ``(33,)`` visibility in [0, 1] (0 where missing); torso pixels (NaN if unknown);
    yaw degrees and its reliability r (:func:`torso_direction`)."""

    t: float
    px: np.ndarray
    vis: np.ndarray
    torso: float
    yaw: float
    r: float


def _observe(landmarks: np.ndarray, world: np.ndarray, t: float, image_size: tuple[int, int]) -> _Observation:
    lm = np.asarray(landmarks, dtype=np.float64)
    px = lm[:, :2] * np.array([float(image_size[0]), float(image_size[1])])
    vis = np.nan_to_num(np.clip(lm[:, VISIBILITY], 0.0, 1.0), nan=0.0)
    torso = torso_size(px)
    yaw, r = torso_direction(world)
    return _Observation(
        float(t), px, vis, torso if math.isfinite(torso) and torso > 0 else float("nan"), math.degrees(yaw), r
    )


_SIDED = np.array(SIDED_BODY, dtype=np.intp)
_MATE = MIRROR_PERMUTATION[_SIDED]


def image_costs(
    prev_landmarks: np.ndarray,
    landmarks: np.ndarray,
    dt: float,
    image_size: tuple[int, int],
    config: SwapConfig = SwapConfig(),
) -> tuple[float, float]:
    """``(same, cross)`` image continuity costs of two raw frames ``dt`` seconds apart, each in
    ``[0, 1]``: how unlikely it is that they carry the same labels (``same``) or exchanged
    ones (``cross``).

    prev_landmarks, landmarks: ``(33, 5)`` normalised image landmarks as estimated.
    image_size: ``(width, height)`` pixels. Over :data:`SIDED_BODY`, each landmark's pixel
    displacement from its own previous position (same) or its partner's (cross), in torso
    sizes ``d``, scores ``min((d / s)^2, 1)`` with ``s = image_noise + image_speed * dt``;
    scores are averaged with weights ``sqrt`` of the product of the pair's four visibilities
    (one weight for both hypotheses). ``(0, 0)`` when nothing is usable.
    """
    a = _observe(prev_landmarks, np.full((NUM_LANDMARKS, 3), np.nan), 0.0, image_size)
    b = _observe(landmarks, np.full((NUM_LANDMARKS, 3), np.nan), dt, image_size)
    same, cross = _image_costs((a,), b, config)[0]
    return float(same), float(cross)


def _mean_finite(a: float, b: float) -> float:
    """The mean of ``a`` and ``b`` leaving out a NaN; NaN when both are."""
    if math.isfinite(a) and math.isfinite(b):
        return (a + b) / 2.0
    return a if math.isfinite(a) else b


def _image_costs(history: tuple[_Observation, ...], b: _Observation, config: SwapConfig) -> np.ndarray:
    """``(k, 2)`` ``[same, cross]`` image costs of frame ``b`` against each of the ``k``
    earlier frames in ``history`` (see :func:`image_costs`); rows of zeros where nothing is
    usable."""
    k = len(history)
    out = np.zeros((k, 2))
    if k == 0:
        return out
    ts = np.array([a.t for a in history])
    torso = np.array([_mean_finite(a.torso, b.torso) for a in history])
    px = np.stack([a.px[_SIDED] for a in history])  # (k, 22, 2)
    pair_vis = np.stack([a.vis[_SIDED] * a.vis[_MATE] for a in history])  # (k, 22)
    weight = np.sqrt(pair_vis * (b.vis[_SIDED] * b.vis[_MATE]))
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (
            np.stack([np.linalg.norm(b.px[_SIDED] - px, axis=-1), np.linalg.norm(b.px[_MATE] - px, axis=-1)], axis=-1)
            / torso[:, None, None]
        )  # (k, 22, 2)
    ok = np.isfinite(d).all(axis=-1) & (weight > 0) & np.isfinite(torso)[:, None]
    w = np.where(ok, weight, 0.0)
    wsum = w.sum(axis=1)
    s = config.image_noise + config.image_speed * (b.t - ts)  # (k,)
    score = np.minimum((np.where(ok[..., None], d, 0.0) / s[:, None, None]) ** 2, 1.0)
    rows = wsum > 0
    out[rows] = (w[rows, :, None] * score[rows]).sum(axis=1) / wsum[rows, None]
    return out


def _yaw_trust(dt: float, config: SwapConfig) -> float:
    """How much the yaw term counts at time step ``dt``: 1 for dt -> 0, falling to 0 when the
    fastest turn covers 90 degrees in ``dt``."""
    x = config.max_turn_speed_deg * dt / 90.0
    return math.sqrt(1.0 - x) if x < 1.0 else 0.0


@dataclass(frozen=True)
class _Survivor:
    """The best labelling so far that ends in one state: its states for the remembered frames
    (oldest first), the torso yaw it gives the newest frame (degrees, output labels) and its
    turn rate (degrees per second, low-passed)."""

    path: tuple[bool, ...]
    yaw: float
    rate: float


@dataclass(frozen=True)
class SwapState:
    """One person's identity memory.

    t: seconds, the last frame this person was seen. history: what is kept of the last
    ``config.lags`` frames *as estimated* (before any exchange), oldest first. costs:
    ``(as_estimated, exchanged)`` forward (Viterbi) costs of the newest frame's two states,
    the smaller one 0. survivors: the best labelling ending in each state. exchanged: the
    decision for the newest frame. back: for each state of the newest frame, the state its
    best labelling gave the frame before (``(0, 1)`` after a restart).
    """

    t: float
    history: tuple[_Observation, ...]
    costs: tuple[float, float]
    survivors: tuple[_Survivor, _Survivor]
    exchanged: bool
    back: tuple[int, int] = (0, 1)


def _start(obs: _Observation, config: SwapConfig) -> SwapState:
    yaw = obs.yaw if math.isfinite(obs.yaw) else 0.0
    survivors = (_Survivor((False,), yaw, 0.0), _Survivor((True,), _wrap_deg(yaw + 180.0), 0.0))
    return SwapState(obs.t, (obs,), (0.0, config.start_cost), survivors, False)


def _advance(state: SwapState, obs: _Observation, config: SwapConfig) -> SwapState:
    """One forward step. The transition from survivor ``p`` to state ``s`` costs:

    * image: the mean over the remembered frames of the "same" cost where ``p`` gave that frame
      the state ``s``, else the "cross" cost;
    * yaw: the newest frame's torso yaw under ``s`` against ``p``'s yaw carried forward at
      ``p``'s turn rate; a residual of ``a`` degrees scores ``(1 - cos a) / 2`` (0 for the
      predicted direction, 1 for the opposite one, so the two states' scores add up to 1 and
      the yaw votes with strength ``cos a``), weighted by both frames' horizontal fractions and
      :func:`_yaw_trust`.
    """
    history = state.history
    pair = _image_costs(history, obs, config)  # (k, 2); equal weights bridge half-flipped frames
    prev = history[-1]
    dt = obs.t - prev.t
    trust = _yaw_trust(dt, config) * min(prev.r, obs.r) * config.yaw_weight
    yaw_ok = math.isfinite(obs.yaw) and trust > 0
    new_costs, back, survivors = [0.0, 0.0], [0, 0], []
    for s in (0, 1):
        yaw_s = _wrap_deg(obs.yaw + 180.0 * s) if math.isfinite(obs.yaw) else float("nan")
        best, arg = math.inf, 0
        for p in (0, 1):
            sv = state.survivors[p]
            c = state.costs[p]
            crossed = np.array(sv.path, dtype=bool) != bool(s)  # (k,) the survivor's other state
            c += config.image_weight * float(pair[np.arange(len(crossed)), crossed.astype(np.intp)].mean())
            if yaw_ok:
                a = abs(_wrap_deg(yaw_s - (sv.yaw + sv.rate * dt)))
                c += trust * (1.0 - math.cos(math.radians(a))) / 2.0
            if c < best:
                best, arg = c, p
        sv = state.survivors[arg]
        if math.isfinite(yaw_s) and dt > 0:
            step = _wrap_deg(yaw_s - sv.yaw) / dt
            step = max(-config.max_turn_speed_deg, min(config.max_turn_speed_deg, step))
            rate = sv.rate + config.rate_alpha * (step - sv.rate)
            yaw = yaw_s
        else:
            rate, yaw = sv.rate, sv.yaw + sv.rate * dt
        survivors.append(_Survivor((sv.path + (bool(s),))[-config.lags :], yaw, rate))
        new_costs[s], back[s] = best + (config.prior if s else 0.0), arg
    m = min(new_costs)
    costs = (new_costs[0] - m, new_costs[1] - m)
    history = (history + (obs,))[-config.lags :]
    return SwapState(obs.t, history, costs, (survivors[0], survivors[1]), costs[1] < costs[0], (back[0], back[1]))


def _valid(person_lm: np.ndarray, world: np.ndarray) -> bool:
    lm = np.asarray(person_lm)
    w = np.asarray(world)
    return lm.shape == (NUM_LANDMARKS, 5) and w.shape == (NUM_LANDMARKS, 3)


def _present(landmarks: np.ndarray) -> bool:
    return bool(np.isfinite(np.asarray(landmarks, dtype=np.float64)[list(TORSO), :2]).all())


def _update(
    state: SwapState | None,
    landmarks: np.ndarray,
    world: np.ndarray,
    t: float,
    image_size: tuple[int, int],
    config: SwapConfig,
) -> tuple[SwapState | None, bool]:
    """``(new state, restarted)``; the state is unchanged (and not restarted) for a frame
    without torso landmarks."""
    if not _present(landmarks):
        return state, False
    obs = _observe(landmarks, world, t, image_size)
    if state is None or not (0.0 < obs.t - state.t <= config.max_gap):
        return _start(obs, config), True
    return _advance(state, obs, config), False


def swap_step(
    state: SwapState | None,
    person: Person,
    t: float,
    image_size: tuple[int, int],
    config: SwapConfig = SwapConfig(),
) -> tuple[Person, SwapState | None]:
    """Decide one frame of one person, causally. Pure: returns ``(person, state)``.

    state: this person's previous state or ``None`` (first sight). person: the estimate
    (``landmarks`` ``(33, 5)``, ``world`` ``(33, 3)``; not modified). t: the frame's timestamp,
    seconds (increasing per person). image_size: ``(width, height)`` pixels.

    Returns the person, exchanged (:func:`exchange_person`) when the exchanged state has the
    lower forward cost, else the same object; and the new state. After a gap longer than
    ``config.max_gap`` (or a timestamp that does not increase) the person starts afresh, with
    BlazePose's labels. A person without torso landmarks passes through unchanged and leaves
    the state as it was.
    """
    if not _valid(person.landmarks, person.world):
        raise InputError(
            f"swap_step: expected landmarks (33, 5) and world (33, 3), got "
            f"{np.shape(person.landmarks)} and {np.shape(person.world)}"
        )
    new, _ = _update(state, person.landmarks, person.world, float(t), image_size, config)
    if new is None or new is state:
        return person, new
    return (exchange_person(person) if new.exchanged else person), new


def label_sequence(
    landmarks: np.ndarray,
    world: np.ndarray,
    timestamps: np.ndarray,
    image_size: tuple[int, int],
    config: SwapConfig = SwapConfig(),
    causal: bool = False,
) -> np.ndarray:
    """Which frames of one person's sequence are mirror-labelled: ``(F,)`` bool.

    landmarks: ``(F, 33, 5)`` normalised image landmarks as estimated; world: ``(F, 33, 3)``
    metres, MediaPipe world frame; timestamps: ``(F,)`` seconds, increasing. A frame whose
    torso is missing (NaN, nobody found) is never exchanged; a gap longer than
    ``config.max_gap`` restarts the model. image_size: ``(width, height)`` pixels.

    causal=True: exactly what :func:`swap_step` decides frame by frame (the live decision).
    causal=False (offline): the best labelling of each stretch through the same costs, traced
    back from its last frame (Viterbi), so later frames can revise a decision.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    w = np.asarray(world, dtype=np.float64)
    ts = np.asarray(timestamps, dtype=np.float64)
    n = lm.shape[0]
    if lm.shape != (n, NUM_LANDMARKS, 5) or w.shape != (n, NUM_LANDMARKS, 3) or ts.shape != (n,):
        raise InputError(
            f"label_sequence: expected (F, 33, 5), (F, 33, 3) and (F,), got {lm.shape}, {w.shape} and {ts.shape}"
        )
    out = np.zeros(n, dtype=bool)
    state: SwapState | None = None
    segment: list[int] = []
    backs: list[tuple[int, int]] = []

    def finish() -> None:
        if state is None or not segment:
            return
        s = 0 if state.costs[0] <= state.costs[1] else 1
        for k in range(len(segment) - 1, -1, -1):
            out[segment[k]] = bool(s)
            s = backs[k][s]

    for i in range(n):
        previous = state
        state, restarted = _update(state, lm[i], w[i], float(ts[i]), image_size, config)
        if state is previous:
            continue
        if restarted:
            if not causal:
                state, kept = previous, state
                finish()
                state = kept
            segment, backs = [], []
        segment.append(i)
        backs.append(state.back)
        if causal:
            out[i] = state.exchanged
    if not causal:
        finish()
    return out


class SwapStage:
    """Pipeline stage ``swap``: every person's left/right identity, before smoothing.

    Returns a new :class:`PoseFrame` whose people are exchanged (:func:`exchange_person`) in
    the frames :func:`swap_step` finds mirror-labelled; others pass through unchanged. Each
    ``Person.id`` has its own state; a person unseen for longer than ``config.max_gap`` seconds
    starts afresh. Causal: no frame is delayed. ``exchanged_ids`` lists the ids exchanged in
    the last frame.
    """

    name = "swap"

    def __init__(self, config: SwapConfig = SwapConfig()) -> None:
        self.config = config
        self._states: dict[int, SwapState] = {}
        self.exchanged_ids: tuple[int, ...] = ()

    def process(self, pose_frame: PoseFrame) -> PoseFrame:
        t = pose_frame.timestamp
        size = pose_frame.frame.size
        states: dict[int, SwapState] = {}
        seen: set[int] = set()
        people, exchanged = [], []
        for person in pose_frame.people:
            if person.id in seen:
                raise InputError(
                    f"frame {pose_frame.index}: two people share id {person.id}; "
                    "person ids must be unique within a frame (check the tracker)"
                )
            seen.add(person.id)
            out, state = swap_step(self._states.get(person.id), person, t, size, self.config)
            if state is not None:
                states[person.id] = state
            if out is not person:
                exchanged.append(person.id)
            people.append(out)
        for pid, st in self._states.items():
            if pid not in states and t - st.t <= self.config.max_gap:
                states[pid] = st
        self._states = states
        self.exchanged_ids = tuple(exchanged)
        return pose_frame.with_people(people)

    def reset(self) -> None:
        """Forget every person."""
        self._states = {}
        self.exchanged_ids = ()
