"""Zero-lag smoothing of recorded motion: every person's landmarks through the RTS smoother.

When the input is a file and the results go to files (take, CSV, joint angles, BVH), future
frames are available, so smoothing need not lag. This module smooths one person's image and
world landmarks with :mod:`.rts` (a Kalman filter forward, the Rauch-Tung-Striebel pass
backward) on a constant-acceleration model (``order = 3``; 2 for constant velocity):

* **World landmarks** ``(33, 3)`` metres, MediaPipe world frame: x and y at
  :attr:`OfflineConfig.world_cutoff`, z (depth, BlazePose's noisy axis) at
  :attr:`OfflineConfig.depth_cutoff`.
* **Image landmarks** ``(33, 5)`` ``[x, y, z, visibility, presence]``: x and y (normalised)
  of each landmark at the cutoff its own data favour (:attr:`OfflineConfig.image_adaptive`:
  maximum likelihood over :data:`IMAGE_GRID`, released one grid step (1.5 times) above it,
  :class:`~.rts.AdaptiveFixedLagSmoother`), z at :attr:`OfflineConfig.image_cutoff`;
  visibility and presence at :attr:`OfflineConfig.visibility_cutoff` (clipped to [0, 1]).
* Cutoffs are half-gain frequencies in Hz (:mod:`.rts`): motion well below passes
  unchanged, noise well above is removed, and nothing is delayed.
* **Visibility-aware noise**: a landmark whose *raw* visibility is under
  :attr:`OfflineConfig.visibility_threshold` is trusted ``hidden_noise`` times less (its
  measurement variance is multiplied), so an occluded point the model guesses wildly follows
  its visible neighbours in time instead of the guess.
* NaN stays NaN; a person unseen for longer than :attr:`OfflineConfig.reset_gap` seconds
  starts afresh (nothing is carried across the gap in either direction).

:func:`smooth_sequence` smooths a whole recorded sequence (pure). :class:`OfflineSmoother`
does the same for :class:`~arpose.types.PoseFrame` objects as they arrive, one fixed-lag
smoother per person id, and releases each frame once :attr:`OfflineConfig.lag` seconds of
later frames are known (so a file run's outputs stream to disk with a bounded delay instead
of waiting for the end); it matches :func:`smooth_sequence` to well under a millimetre.
Its output people hold the smoothed arrays in ``landmarks`` / ``world`` and the estimator's
in ``raw_landmarks`` / ``raw_world``; ``body``, ``angles`` and ``mask`` are cleared (later
stages derive bodies from the smoothed landmarks).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InputError
from ..landmarks import NUM_LANDMARKS, PRESENCE, VISIBILITY
from ..types import Person, PoseFrame
from .one_euro import _check_rate
from .rts import AdaptiveFixedLagSmoother, FixedLagSmoother, rts_smooth

__all__ = ["OfflineConfig", "smooth_sequence", "OfflineSmoother", "IMAGE_GRID", "IMAGE_SHIFT"]

# Channel layout of one person: image x, y, z (33 x 3), world x, y (33 x 2), world z (33),
# visibility and presence (33 x 2).
_N = NUM_LANDMARKS
_IMAGE = slice(0, 3 * _N)
_WORLD_XY = slice(3 * _N, 5 * _N)
_WORLD_Z = slice(5 * _N, 6 * _N)
_VIS = slice(6 * _N, 8 * _N)
_CHANNELS = 8 * _N
# The image x and y channels (3 i and 3 i + 1 of the layout) and their landmark i.
_IMAGE_XY = np.sort(np.concatenate([3 * np.arange(_N), 3 * np.arange(_N) + 1]))
_IMAGE_XY_GROUPS = _IMAGE_XY // 3

#: Cutoffs (Hz) among which each landmark's image x/y smoother is chosen by maximum likelihood
#: (:class:`~arpose.smooth.rts.AdaptiveFixedLagSmoother`): 0.5 Hz times powers of 1.5, up to
#: 28.8 Hz. The output is :data:`IMAGE_SHIFT` steps above the most likely cutoff, i.e.
#: 1.5 times it: the likelihood's choice smooths fast limbs a little more than the 2D error
#: can afford (measured on the synthetic performer, docs/smoothing.md).
IMAGE_GRID = tuple(float(0.5 * 1.5**k) for k in range(11))
IMAGE_SHIFT = 1


@dataclass(frozen=True)
class OfflineConfig:
    """Settings of the zero-lag smoother (one set shared by every person).

    world_cutoff: Hz, half-gain frequency of world landmarks' x and y.
    depth_cutoff: Hz, of world landmarks' z (depth).
    image_cutoff: Hz, of image landmarks' x, y, z.
    visibility_cutoff: Hz, of the visibility and presence columns.
    order: 3 constant acceleration (default), 2 constant velocity.
    image_adaptive: True (default): each landmark's image x and y are smoothed at the cutoff
        the data favour (maximum likelihood of the model over :data:`IMAGE_GRID`, times 1.5;
        ``image_cutoff`` until there is evidence); False: at ``image_cutoff``. Image z is
        always at ``image_cutoff``.
    visibility_threshold: in [0, 1]; a landmark whose raw visibility is below it is trusted
        ``hidden_noise`` times less. 0 disables the gate.
    hidden_noise: >= 1, measurement-variance factor of those landmarks.
    reset_gap: seconds (>= 0) a person may be unseen before their smoother restarts.
    lag: seconds (>= 0) of later frames :class:`OfflineSmoother` waits for before it releases
        a frame (frames leave in blocks, each after ``lag`` to ``2 lag`` seconds).
    """

    world_cutoff: float = 6.0
    depth_cutoff: float = 3.0
    image_cutoff: float = 8.0
    visibility_cutoff: float = 0.5
    order: int = 3
    visibility_threshold: float = 0.5
    hidden_noise: float = 100.0
    reset_gap: float = 0.5
    lag: float = 1.0
    image_adaptive: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.image_adaptive, bool):
            raise ConfigError(f"offline image_adaptive must be true or false, got {self.image_adaptive!r}")
        for name in ("world_cutoff", "depth_cutoff", "image_cutoff", "visibility_cutoff"):
            v = _check_rate(name, getattr(self, name))
            if v <= 0.0:
                raise ConfigError(f"offline {name} must be > 0 Hz, got {getattr(self, name)!r}")
            object.__setattr__(self, name, v)
        if self.order not in (2, 3) or isinstance(self.order, bool):
            raise ConfigError(f"offline order must be 2 or 3, got {self.order!r}")
        vt = _check_rate("visibility_threshold", self.visibility_threshold)
        if vt > 1.0:
            raise ConfigError(f"visibility_threshold must be in [0, 1], got {self.visibility_threshold!r}")
        object.__setattr__(self, "visibility_threshold", vt)
        hn = _check_rate("hidden_noise", self.hidden_noise)
        if hn < 1.0:
            raise ConfigError(f"offline hidden_noise must be >= 1, got {self.hidden_noise!r}")
        object.__setattr__(self, "hidden_noise", hn)
        object.__setattr__(self, "reset_gap", _check_rate("reset_gap", self.reset_gap))
        object.__setattr__(self, "lag", _check_rate("lag", self.lag))

    def cutoffs(self) -> np.ndarray:
        """``(264,)`` Hz per channel of the person layout (image xyz, world xy, world z,
        visibility/presence)."""
        c = np.empty(_CHANNELS)
        c[_IMAGE] = self.image_cutoff
        c[_WORLD_XY] = self.world_cutoff
        c[_WORLD_Z] = self.depth_cutoff
        c[_VIS] = self.visibility_cutoff
        return c


def _pack(image: np.ndarray, world: np.ndarray) -> np.ndarray:
    """``(..., 33, 5)`` image and ``(..., 33, 3)`` world landmarks -> ``(..., 264)`` channels."""
    lead = image.shape[:-2]
    return np.concatenate(
        [
            image[..., :3].reshape(lead + (3 * _N,)),
            world[..., :2].reshape(lead + (2 * _N,)),
            world[..., 2],
            image[..., [VISIBILITY, PRESENCE]].reshape(lead + (2 * _N,)),
        ],
        axis=-1,
    ).astype(np.float64)


def _unpack(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_pack` (float32; visibility and presence clipped to [0, 1])."""
    lead = x.shape[:-1]
    image = np.empty(lead + (_N, 5), dtype=np.float32)
    image[..., :3] = x[..., _IMAGE].reshape(lead + (_N, 3))
    vp = np.clip(x[..., _VIS].reshape(lead + (_N, 2)), 0.0, 1.0)
    image[..., VISIBILITY] = vp[..., 0]
    image[..., PRESENCE] = vp[..., 1]
    world = np.empty(lead + (_N, 3), dtype=np.float32)
    world[..., :2] = x[..., _WORLD_XY].reshape(lead + (_N, 2))
    world[..., 2] = x[..., _WORLD_Z]
    return image, world


def _noise(image: np.ndarray, config: OfflineConfig) -> np.ndarray:
    """``(..., 264)`` relative measurement variances from the raw visibility of ``(..., 33, 5)``
    image landmarks: ``hidden_noise`` for landmarks under the threshold, else 1."""
    with np.errstate(invalid="ignore"):
        hidden = image[..., VISIBILITY] < config.visibility_threshold  # NaN visibility: trusted
    per = np.where(hidden, config.hidden_noise, 1.0)
    lead = image.shape[:-2]
    out = np.ones(lead + (_CHANNELS,))
    out[..., _IMAGE] = np.repeat(per, 3, axis=-1)
    out[..., _WORLD_XY] = np.repeat(per, 2, axis=-1)
    out[..., _WORLD_Z] = per
    return out


def smooth_sequence(
    image: np.ndarray, world: np.ndarray, t: np.ndarray, config: OfflineConfig = OfflineConfig()
) -> tuple[np.ndarray, np.ndarray]:
    """Zero-lag smoothing of one person's recorded sequence. Pure.

    image: ``(F, 33, 5)`` normalised image landmarks ``[x, y, z, visibility, presence]``;
    world: ``(F, 33, 3)`` metres, MediaPipe world frame; t: ``(F,)`` seconds, strictly
    increasing. A frame that is all NaN is one where the person was not found.
    Returns ``(image (F, 33, 5), world (F, 33, 3))`` float32, the same frames and units,
    NaN where the input is NaN.
    """
    image = np.asarray(image, dtype=np.float64)
    world = np.asarray(world, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    f = t.shape[0] if t.ndim == 1 else -1
    if image.shape != (f, _N, 5) or world.shape != (f, _N, 3):
        raise InputError(
            f"smooth_sequence: expected image (F, 33, 5), world (F, 33, 3), t (F,); "
            f"got {image.shape}, {world.shape}, {t.shape}"
        )
    if f > 1 and not (np.diff(t) > 0).all():
        raise InputError("smooth_sequence: timestamps must strictly increase")
    packed, noise = _pack(image, world), _noise(image, config)
    x = rts_smooth(packed, t, config.cutoffs(), config.order, noise, config.reset_gap)
    if config.image_adaptive:
        x[:, _IMAGE_XY] = _adaptive_image_xy(packed[:, _IMAGE_XY], t, noise[:, _IMAGE_XY], config)
    return _unpack(x)


def _image_xy_smoother(config: OfflineConfig) -> AdaptiveFixedLagSmoother | None:
    """The adaptive smoother of one person's image x and y channels (None when
    ``config.image_adaptive`` is off)."""
    if not config.image_adaptive:
        return None
    grid = np.asarray(IMAGE_GRID)
    default = int(np.argmin(np.abs(np.log(grid / config.image_cutoff))))
    return AdaptiveFixedLagSmoother(
        grid, _IMAGE_XY_GROUPS, IMAGE_SHIFT, config.order, config.lag, config.reset_gap, default
    )


def _adaptive_image_xy(x: np.ndarray, t: np.ndarray, noise: np.ndarray, config: OfflineConfig) -> np.ndarray:
    """``(F, 66)`` image x/y channels through :func:`_image_xy_smoother` exactly as
    :class:`OfflineSmoother` runs them: frames without the person (all NaN) are skipped, and
    the smoother restarts once the person has been lost for longer than ``config.reset_gap``
    (so the likelihood's evidence, like the stream's, starts afresh)."""
    out = np.full(x.shape, np.nan)
    index = {float(tk): k for k, tk in enumerate(t)}
    present = np.isfinite(x).any(axis=1)
    sm, last = None, -math.inf

    def collect(released: list[tuple[float, np.ndarray]]) -> None:
        for tk, values in released:
            out[index[tk]] = values

    for k in range(t.size):
        if present[k]:
            if sm is None:
                sm = _image_xy_smoother(config)
            collect(sm.push(x[k], float(t[k]), noise[k]))
            last = float(t[k])
        if sm is not None and float(t[k]) - last > config.reset_gap:
            collect(sm.flush())
            sm = None
    if sm is not None:
        collect(sm.flush())
    return out


def _merge(
    released: list[tuple[float, np.ndarray]], image_xy: list[tuple[float, np.ndarray]] | None
) -> list[tuple[float, np.ndarray]]:
    """The fixed smoother's released ``(t, (264,))`` frames with their image x/y channels
    replaced by the adaptive smoother's ``(t, (66,))`` (both were pushed the same frames, so
    they release the same ones)."""
    if image_xy is None:
        return released
    if [t for t, _ in released] != [t for t, _ in image_xy]:
        raise RuntimeError("offline smoother: the image x/y smoother released other frames than the rest")
    out = []
    for (t, values), (_, xy) in zip(released, image_xy):
        values = values.copy()
        values[_IMAGE_XY] = xy
        out.append((t, values))
    return out


class OfflineSmoother:
    """Zero-lag smoothing of every person in a stream of :class:`PoseFrame` objects, with a
    bounded delay: :meth:`push` takes the next frame and returns the frames now ready (each
    released once ``config.lag`` to ``2 config.lag`` seconds of later frames are known, or
    once every person in it has been lost for longer than ``config.reset_gap``: a frame waits
    at most ``2 lag + reset_gap`` seconds);
    :meth:`flush` returns the rest when the stream ends. Frames come out in order, every
    frame once.

    Each person id has its own smoother (people never share state). The input people's
    ``raw_landmarks`` / ``raw_world`` (when a causal smoother already ran) else
    ``landmarks`` / ``world`` are smoothed. Held frames keep no image (a zero-cost
    placeholder of the same size) and no masks.
    """

    name = "smooth-offline"

    def __init__(self, config: OfflineConfig = OfflineConfig()) -> None:
        self.config = config
        self._people: dict[int, FixedLagSmoother] = {}
        self._image_xy: dict[int, AdaptiveFixedLagSmoother | None] = {}
        self._last_seen: dict[int, float] = {}
        self._pending: deque[PoseFrame] = deque()
        self._ready: dict[tuple[int, float], np.ndarray] = {}
        self._last_t = -math.inf

    @property
    def held(self) -> int:
        """Frames received but not yet released."""
        return len(self._pending)

    def push(self, pose_frame: PoseFrame) -> list[PoseFrame]:
        t = float(pose_frame.timestamp)
        if not t > self._last_t:
            raise InputError(
                f"frame {pose_frame.index}: timestamp {t:.6f} s is not after the previous one "
                f"({self._last_t:.6f} s); timestamps must strictly increase"
            )
        self._last_t = t
        ids = [p.id for p in pose_frame.people]
        if len(set(ids)) != len(ids):
            raise InputError(
                f"frame {pose_frame.index}: two people share an id; person ids must be unique within a frame"
            )
        self._pending.append(_light(pose_frame))
        for person in pose_frame.people:
            image, world = _raw(person)
            sm = self._people.get(person.id)
            if sm is None:
                sm = self._people[person.id] = FixedLagSmoother(
                    self.config.cutoffs(), self.config.order, self.config.lag, self.config.reset_gap
                )
                self._image_xy[person.id] = _image_xy_smoother(self.config)
            packed, noise = _pack(image, world), _noise(image, self.config)
            xy = self._image_xy[person.id]
            released = sm.push(packed, t, noise)
            self._collect(
                person.id,
                _merge(released, None if xy is None else xy.push(packed[_IMAGE_XY], t, noise[_IMAGE_XY])),
            )
            self._last_seen[person.id] = t
        # People lost for longer than the reset gap cannot be changed by later frames.
        for pid in [p for p, seen in self._last_seen.items() if t - seen > self.config.reset_gap]:
            self._flush_person(pid)
            del self._last_seen[pid]
        return self._release()

    def flush(self) -> list[PoseFrame]:
        """Every frame still held, smoothed with everything received (the stream ended)."""
        for pid in list(self._people):
            self._flush_person(pid)
        self._last_seen.clear()
        return self._release()

    def _flush_person(self, pid: int) -> None:
        xy = self._image_xy.pop(pid)
        self._collect(pid, _merge(self._people.pop(pid).flush(), None if xy is None else xy.flush()))

    def reset(self) -> None:
        """Forget everything, including frames not yet released."""
        self.__init__(self.config)

    def _collect(self, pid: int, released: list[tuple[float, np.ndarray]]) -> None:
        for t, values in released:
            self._ready[(pid, t)] = values

    def _release(self) -> list[PoseFrame]:
        out = []
        while self._pending:
            pf = self._pending[0]
            t = float(pf.timestamp)
            if any((p.id, t) not in self._ready for p in pf.people):
                break
            self._pending.popleft()
            people = []
            for p in pf.people:
                image, world = _unpack(self._ready.pop((p.id, t)))
                raw_i, raw_w = _raw(p)
                people.append(
                    p.with_(
                        landmarks=image,
                        world=world,
                        raw_landmarks=raw_i.astype(np.float32),
                        raw_world=raw_w.astype(np.float32),
                        body=None,
                        angles=None,
                        mask=None,
                    )
                )
            out.append(pf.with_people(people))
        return out


def _raw(person: Person) -> tuple[np.ndarray, np.ndarray]:
    """The estimator's arrays of ``person``: ``(33, 5)`` image and ``(33, 3)`` world."""
    image = person.raw_landmarks if person.raw_landmarks is not None else person.landmarks
    world = person.raw_world if person.raw_world is not None else person.world
    image, world = np.asarray(image), np.asarray(world)
    if image.shape != (_N, 5) or world.shape != (_N, 3):
        raise InputError(
            f"person {person.id}: expected landmarks (33, 5) and world (33, 3), got {image.shape}, {world.shape}"
        )
    return image, world


def _light(pose_frame: PoseFrame) -> PoseFrame:
    """The frame with its image replaced by a zero-stride black view of the same shape (keeps
    ``size``, timestamp and index for later stages and outputs; holds no memory)."""
    from dataclasses import replace

    frame = pose_frame.frame
    shape = np.shape(frame.image)
    h, w = (shape[0], shape[1]) if len(shape) >= 2 else (1, 1)
    image = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (h, w, 3))
    return replace(pose_frame, frame=replace(frame, image=image))
