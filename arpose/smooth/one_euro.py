"""Vectorised, time-based One Euro filter (Casiez, Roussel, Vogel, CHI 2012).

The filter is an adaptive first-order low-pass. For each element of an array of any shape
(e.g. all 33 landmarks x 3 coordinates at once)::

    Te      = t - t_prev                       real time step in seconds (never an assumed fps)
    alpha(fc) = 1 / (1 + tau / Te),  tau = 1 / (2 pi fc)
    dx      = (x - y_prev) / Te                speed against the previous *filtered* value (paper)
    edx     = edx_prev + alpha(d_cutoff) * (dx - edx_prev)      the speed, low-passed
    cutoff  = min_cutoff + beta * |edx| / scale
    y       = y_prev + alpha(cutoff) * (x - y_prev)

``scale`` turns the speed into the units ``beta`` is tuned for (MediaPipe divides image
landmark speeds by the pose's size so one parameter set fits near and far people). With
``speed_axis`` the speed is the Euclidean norm over that axis (all coordinates of a point share
one cutoff, so a diagonal motion is not distorted); without it every element is independent.

With ``beta = 0`` this is a plain first-order low-pass at ``min_cutoff``: its step response is
``1 - (1 - alpha)^n``, a ramp of speed ``v`` lags by exactly ``tau`` seconds (``v * tau`` in
value), a sine of frequency ``f`` is scaled by ``alpha / |1 - (1 - alpha) exp(-2j pi f Te)|``.

Missing data: a NaN element leaves that element's state untouched (it is not an observation),
and its output is NaN. Each element remembers the time of its own last observation, so an
element that reappears after a gap is updated with the real elapsed time.

:func:`one_euro_step` is pure (returns a new :class:`OneEuroState`, never mutates its inputs);
:class:`OneEuroFilter` is a thin stateful wrapper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InputError

__all__ = ["OneEuroParams", "OneEuroState", "OneEuroFilter", "one_euro_step", "smoothing_factor"]


def _check_rate(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0.0:
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


@dataclass(frozen=True)
class OneEuroParams:
    """Parameters of a One Euro filter.

    min_cutoff: Hz, the cutoff when still (lower = steadier, more lag). Must be > 0.
    beta: speed coefficient, Hz per (speed unit / scale): how fast the cutoff opens with
        speed (higher = less lag on fast moves, more jitter). >= 0.
    d_cutoff: Hz, cutoff of the low-pass applied to the speed estimate. Must be > 0.
    """

    min_cutoff: float = 1.0
    beta: float = 0.0
    d_cutoff: float = 1.0

    def __post_init__(self) -> None:
        mc = _check_rate("min_cutoff", self.min_cutoff)
        b = _check_rate("beta", self.beta)
        dc = _check_rate("d_cutoff", self.d_cutoff)
        if mc <= 0.0:
            raise ConfigError(f"min_cutoff must be > 0 Hz, got {self.min_cutoff!r} (try 0.05 to 1)")
        if dc <= 0.0:
            raise ConfigError(f"d_cutoff must be > 0 Hz, got {self.d_cutoff!r} (1.0 is usual)")
        object.__setattr__(self, "min_cutoff", mc)
        object.__setattr__(self, "beta", b)
        object.__setattr__(self, "d_cutoff", dc)


@dataclass(frozen=True)
class OneEuroState:
    """Filter memory, arrays of the input's shape (float64).

    y: last filtered value per element (NaN: never observed).
    dy: last low-passed speed per element, in input units per second (before ``scale``).
    t: seconds, time of each element's last observation (NaN: never observed).
    """

    y: np.ndarray
    dy: np.ndarray
    t: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> "OneEuroState":
        nan = np.full(shape, np.nan)
        return cls(nan, np.zeros(shape), nan.copy())


def smoothing_factor(te: np.ndarray | float, cutoff: np.ndarray | float) -> np.ndarray:
    """Exponential-smoothing weight of a first-order low-pass for a time step.

    te: seconds (> 0); cutoff: Hz (>= 0). Returns ``1 / (1 + tau / te)`` with
    ``tau = 1 / (2 pi cutoff)``, written as ``w / (w + 1)``, ``w = 2 pi cutoff te``, so a zero
    cutoff gives 0 (hold) without dividing by zero. Broadcasts like numpy.
    """
    w = 2.0 * np.pi * np.asarray(cutoff, dtype=np.float64) * np.asarray(te, dtype=np.float64)
    return w / (w + 1.0)


def one_euro_step(
    state: OneEuroState | None,
    x: np.ndarray,
    t: float,
    params: OneEuroParams,
    *,
    scale: float | np.ndarray = 1.0,
    speed_axis: int | None = None,
    max_cutoff: np.ndarray | None = None,
) -> tuple[np.ndarray, OneEuroState]:
    """Filter one sample. Pure: returns ``(y, new_state)`` and mutates nothing.

    state: previous state, or ``None`` to start (the first observation passes through).
    x: array of any shape, in any units; NaN elements are missing (output NaN, state kept).
    t: seconds, this sample's timestamp. It must be later than every element's last
        observation (timestamps strictly increase), else :class:`InputError`.
    params: the filter's parameters.
    scale: positive number (or array broadcastable to ``x``) dividing the speed before
        ``beta`` applies, e.g. the pose's size; speeds are then in sizes per second.
    speed_axis: if given, the speed magnitude is the norm over this axis (e.g. ``-1`` for the
        xyz of each landmark), so all coordinates of a point share one cutoff.
    max_cutoff: optional array broadcastable to ``x``, Hz; where finite it caps the adaptive
        cutoff of that element (``0`` holds the last value). Used to ease low-confidence
        points: they never follow faster than this.

    Returns ``y``: float64 array of ``x``'s shape, the filtered value.
    """
    x = np.asarray(x, dtype=np.float64)
    if state is None:
        state = OneEuroState.empty(x.shape)
    elif state.y.shape != x.shape:
        raise InputError(
            f"one_euro_step: input shape {x.shape} differs from the filter's {state.y.shape}; "
            "start a new filter for a new shape"
        )
    t = float(t)
    if not math.isfinite(t):
        raise InputError(f"one_euro_step: timestamp must be finite, got {t}")
    observed = np.isfinite(x)
    seen = np.isfinite(state.y)
    update = observed & seen
    first = observed & ~seen
    with np.errstate(invalid="ignore"):
        te = t - state.t
        bad = update & ~(te > 0.0)
    if bad.any():
        raise InputError(
            f"one_euro_step: timestamp {t:.6f} s is not after the previous one "
            f"({float(np.nanmax(state.t)):.6f} s); timestamps must strictly increase"
        )
    te = np.where(update, te, 1.0)  # placeholder where not updated (result discarded)
    diff = np.where(update, x - state.y, 0.0)
    dy = state.dy + smoothing_factor(te, params.d_cutoff) * (diff / te - state.dy)
    if speed_axis is None:
        speed = np.abs(dy)
    else:
        speed = np.sqrt(np.sum(dy * dy, axis=speed_axis, keepdims=True))
    cutoff = params.min_cutoff + params.beta * speed / np.asarray(scale, dtype=np.float64)
    if max_cutoff is not None:
        cap = np.asarray(max_cutoff, dtype=np.float64)
        cutoff = np.where(np.isfinite(cap), np.minimum(cutoff, cap), cutoff)
    y_upd = state.y + smoothing_factor(te, cutoff) * diff
    y_new = np.where(update, y_upd, np.where(first, x, state.y))
    dy_new = np.where(update, dy, np.where(first, 0.0, state.dy))
    t_new = np.where(observed, t, state.t)
    out = np.where(observed, y_new, np.nan)
    return out, OneEuroState(y_new, dy_new, t_new)


class OneEuroFilter:
    """Stateful wrapper of :func:`one_euro_step` for arrays of one fixed shape.

    ``f = OneEuroFilter(OneEuroParams(1.0, 0.01)); y = f(x, t)``. ``reset()`` forgets the past.
    """

    def __init__(self, params: OneEuroParams = OneEuroParams(), *, speed_axis: int | None = None) -> None:
        self.params = params
        self.speed_axis = speed_axis
        self.state: OneEuroState | None = None

    def __call__(
        self, x: np.ndarray, t: float, *, scale: float | np.ndarray = 1.0, max_cutoff: np.ndarray | None = None
    ) -> np.ndarray:
        y, self.state = one_euro_step(
            self.state, x, t, self.params, scale=scale, speed_axis=self.speed_axis, max_cutoff=max_cutoff
        )
        return y

    def reset(self) -> None:
        self.state = None
