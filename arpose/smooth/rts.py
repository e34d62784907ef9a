"""Zero-lag smoothing with future frames: a Rauch-Tung-Striebel (RTS) smoother per channel.

Every channel (one coordinate of one landmark) is a scalar signal ``x(t)`` modelled as an
integrated white noise of ``order`` states: ``order = 2`` is constant velocity (white
acceleration), ``order = 3`` constant acceleration (white jerk). Each observation carries
white measurement noise of variance ``noise[k]`` (in relative units, 1 for a trusted sample).

A Kalman filter runs forward over the frames (:func:`forward_step`, pure); the RTS backward
pass (:func:`backward_means`, pure) then combines each frame's filtered state with the
smoothed state of the frame after it. The result uses past and future samples symmetrically:
for a long, evenly sampled, fully observed channel it is the zero-phase Wiener smoother of
the model, with the frequency response (:func:`frequency_response`, exact for the discrete
model)::

    H(f) = S(f) / (S(f) + noise)        real, between 0 and 1: no phase, hence no lag

where ``S`` is the model's sampled signal spectrum. In the continuous limit
``H(f) ~ 1 / (1 + (f / cutoff) ** (2 * order))``: ``cutoff`` (Hz) is where the gain is one
half at the reference rate :data:`REFERENCE_RATE` (30 frames per second). At another rate
``r`` the half-gain frequency is ``cutoff * (r / 30) ** (1 / (2 * order))`` (more samples
carry more information, and the smoother follows a little faster). A polynomial of degree
below ``order`` (a constant; a ramp; with ``order = 3`` a parabola) passes unchanged, at the
ends too.

Conventions shared by every function here:

* ``C`` channels, ``F`` frames. Values in any units (metres, normalised image units ...),
  never mixed within a channel. Timestamps in seconds, strictly increasing.
* NaN is a missing observation: the channel is predicted through it and its output is NaN.
* A channel unseen for longer than ``reset_gap`` seconds starts afresh (nothing is carried
  across the gap, in either direction).
* ``noise``: ``(C,)`` or ``(F, C)`` relative measurement variances (> 0); larger trusts the
  sample less (e.g. a landmark the model says it cannot see).

:func:`rts_smooth` smooths a whole sequence at once; :class:`FixedLagSmoother` does the same
as frames arrive and releases each frame once ``lag`` seconds of later frames are known
(identical to :func:`rts_smooth` up to what those later frames beyond ``lag`` would still
change; with the default lag, well under a millimetre).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, InputError

__all__ = [
    "REFERENCE_RATE",
    "KalmanState",
    "StepRecord",
    "process_density",
    "transition",
    "process_covariance",
    "forward_step",
    "backward_means",
    "rts_smooth",
    "frequency_response",
    "FixedLagSmoother",
    "AdaptiveFixedLagSmoother",
]

#: Frames per second at which ``cutoff`` is exactly the half-gain frequency.
REFERENCE_RATE = 30.0

#: Prior standard deviation of the unobserved derivatives at a channel's first sample, in
#: units of (measurement noise) x (2 pi cutoff) ** j for the j-th derivative: large enough to
#: carry no information (a ramp starting at the first frame is followed without lag).
_DIFFUSE = 1.0e4


def _check_order(order: int) -> int:
    if order not in (2, 3):
        raise ConfigError(f"smoother order must be 2 (constant velocity) or 3 (constant acceleration), got {order!r}")
    return int(order)


def process_density(cutoff: np.ndarray | float, order: int) -> np.ndarray:
    """Spectral density ``q`` of the model's white noise for half-gain frequency ``cutoff``
    (Hz, > 0) at :data:`REFERENCE_RATE`, per unit measurement variance:
    ``q = (2 pi cutoff) ** (2 order) / REFERENCE_RATE``."""
    c = np.asarray(cutoff, dtype=np.float64)
    return (2.0 * np.pi * c) ** (2 * order) / REFERENCE_RATE


def transition(te: float, order: int) -> np.ndarray:
    """``(order, order)`` state transition over ``te`` seconds (position, velocity[, accel])."""
    if order == 2:
        return np.array([[1.0, te], [0.0, 1.0]])
    return np.array([[1.0, te, te * te / 2.0], [0.0, 1.0, te], [0.0, 0.0, 1.0]])


def process_covariance(te: float, order: int) -> np.ndarray:
    """``(order, order)`` covariance of the model noise over ``te`` seconds per unit density."""
    t1, t2, t3 = te, te**2, te**3
    if order == 2:
        return np.array([[t3 / 3.0, t2 / 2.0], [t2 / 2.0, t1]])
    t4, t5 = te**4, te**5
    return np.array([[t5 / 20.0, t4 / 8.0, t3 / 6.0], [t4 / 8.0, t3 / 3.0, t2 / 2.0], [t3 / 6.0, t2 / 2.0, t1]])


@dataclass(frozen=True)
class KalmanState:
    """The forward filter's memory after a frame, per channel.

    m: ``(C, order)`` filtered state (value, its rate[, its rate's rate]) in the channel's
    units per second ** j; P: ``(C, order, order)`` its covariance (relative units);
    t: ``(C,)`` seconds of each channel's last observation (NaN: never observed);
    t_frame: seconds of the last frame seen.
    """

    m: np.ndarray
    P: np.ndarray
    t: np.ndarray
    t_frame: float


@dataclass(frozen=True)
class StepRecord:
    """What the backward pass needs from one forward step, per channel.

    m_f: ``(C, order)`` filtered mean; m_p: ``(C, order)`` the prediction into this frame
    (before its observation); gain: ``(C, order, order)`` the RTS gain of the *previous*
    frame, ``P_f(prev) F^T P_p^-1``, zero where this frame starts the channel afresh (first
    sight or after a gap: nothing flows back across it); observed: ``(C,)`` True where the
    frame observed the channel; t: the frame's seconds.

    For the likelihood of the model (:class:`AdaptiveFixedLagSmoother`): updated: ``(C,)``
    True where the observation updated a running channel (observed, not a (re)start);
    restart: ``(C,)`` True where the channel (re)starts at this frame; innovation_sq:
    ``(C,)`` squared innovation over its predicted variance, ``v^2 / S`` (0 where not
    updated); log_variance: ``(C,)`` ``log S`` (0 where not updated). ``S`` is in the relative
    units of ``noise``.
    """

    m_f: np.ndarray
    m_p: np.ndarray
    gain: np.ndarray
    observed: np.ndarray
    t: float
    updated: np.ndarray | None = None
    restart: np.ndarray | None = None
    innovation_sq: np.ndarray | None = None
    log_variance: np.ndarray | None = None


def _initial(x: np.ndarray, noise: np.ndarray, cutoff: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    c = x.shape[0]
    m = np.zeros((c, order))
    m[:, 0] = np.where(np.isfinite(x), x, 0.0)
    w = 2.0 * np.pi * cutoff
    P = np.zeros((c, order, order))
    P[:, 0, 0] = noise
    for j in range(1, order):
        P[:, j, j] = noise * (_DIFFUSE * w**j) ** 2
    return m, P


def forward_step(
    state: KalmanState | None,
    x: np.ndarray,
    t: float,
    cutoff: np.ndarray,
    order: int,
    noise: np.ndarray | float = 1.0,
    reset_gap: float = math.inf,
) -> tuple[KalmanState, StepRecord]:
    """One Kalman filter step over ``C`` channels. Pure: returns ``(new state, record)``.

    state: the previous frame's, or None for the first frame. x: ``(C,)`` observations (NaN:
    missing). t: seconds, after the previous frame's (else :class:`InputError`).
    cutoff: ``(C,)`` or scalar half-gain frequencies in Hz (> 0). order: 2 or 3.
    noise: ``(C,)`` or scalar relative measurement variance (> 0). reset_gap: seconds a
    channel may go unobserved before it starts afresh.
    """
    order = _check_order(order)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    c = x.size
    cutoff = np.broadcast_to(np.asarray(cutoff, dtype=np.float64), (c,))
    noise = np.broadcast_to(np.asarray(noise, dtype=np.float64), (c,))
    t = float(t)
    if not math.isfinite(t):
        raise InputError(f"smoother: timestamp must be finite, got {t}")
    observed = np.isfinite(x)
    if state is None:
        m_p = np.zeros((c, order))
        P_p = np.zeros((c, order, order))
        F = np.eye(order)
        seen = np.zeros(c, dtype=bool)
        last = np.full(c, np.nan)
    else:
        if state.m.shape != (c, order):
            raise InputError(f"smoother: {c} channels of order {order} do not match the state's {state.m.shape}")
        te = t - state.t_frame
        if not te > 0.0:
            raise InputError(
                f"smoother: timestamp {t:.6f} s is not after the previous one ({state.t_frame:.6f} s); "
                "timestamps must strictly increase"
            )
        F = transition(te, order)
        Q = process_covariance(te, order)[None] * process_density(cutoff, order)[:, None, None]
        m_p = state.m @ F.T
        P_p = F @ state.P @ F.T + Q
        last = state.t
        with np.errstate(invalid="ignore"):
            seen = np.isfinite(last) & (t - last <= reset_gap)
    start = observed & ~seen
    m0, P0 = _initial(x, noise, cutoff, order)
    # Channels that (re)start take the prior; the others predicted (unobserved ones keep it).
    m_prior = np.where(start[:, None], m0, m_p)
    P_prior = np.where(start[:, None, None], P0, P_p)
    upd = observed & seen
    S = P_prior[:, 0, 0] + noise
    K = P_prior[:, :, 0] / np.where(upd, S, 1.0)[:, None]
    innov = np.where(upd, x - m_prior[:, 0], 0.0)
    m_f = np.where(upd[:, None], m_prior + K * innov[:, None], m_prior)
    P_upd = P_prior - K[:, :, None] * P_prior[:, None, 0, :]
    P_f = np.where(upd[:, None, None], 0.5 * (P_upd + np.swapaxes(P_upd, 1, 2)), P_prior)
    # Channels never observed (or lost past the gap and still unseen) carry nothing.
    lost = ~observed & ~seen
    m_f = np.where(lost[:, None], 0.0, m_f)
    t_new = np.where(observed, t, np.where(seen, last, np.nan))
    if state is None:
        gain = np.zeros((c, order, order))
    else:
        # P_f(prev) F^T P_p^-1 = (P_p^-1 F P_f(prev))^T, both covariances symmetric.
        gain = np.swapaxes(np.linalg.solve(P_p, F @ state.P), 1, 2)
        gain = np.where((start | lost)[:, None, None], 0.0, gain)
    new = KalmanState(m_f, P_f, t_new, t)
    s_upd = np.where(upd, S, 1.0)
    return new, StepRecord(
        m_f, m_prior, gain, observed, t, upd, start, np.where(upd, innov * innov / s_upd, 0.0), np.log(s_upd)
    )


def backward_means(records: list[StepRecord]) -> np.ndarray:
    """The RTS backward pass over ``records`` (forward steps in frame order, the last one the
    newest frame, whose filtered mean is its smoothed mean). Pure.

    Returns ``(len(records), C)``: each frame's smoothed value (state component 0), NaN where
    the frame did not observe the channel.
    """
    if not records:
        return np.zeros((0, 0))
    ms = records[-1].m_f
    out = np.empty((len(records), ms.shape[0]))
    out[-1] = np.where(records[-1].observed, ms[:, 0], np.nan)
    for k in range(len(records) - 2, -1, -1):
        r, nxt = records[k], records[k + 1]
        ms = r.m_f + (nxt.gain @ (ms - nxt.m_p)[:, :, None])[:, :, 0]
        out[k] = np.where(r.observed, ms[:, 0], np.nan)
    return out


def _noise_per_frame(noise: np.ndarray | float, f: int, c: int) -> np.ndarray:
    n = np.asarray(noise, dtype=np.float64)
    if n.ndim == 2:
        if n.shape != (f, c):
            raise InputError(f"smoother: noise and cutoff must be ({f}, {c}) or ({c},), got {n.shape}")
        return n
    return np.broadcast_to(n, (f, c))


def rts_smooth(
    x: np.ndarray,
    t: np.ndarray,
    cutoff: np.ndarray | float,
    order: int = 3,
    noise: np.ndarray | float = 1.0,
    reset_gap: float = math.inf,
) -> np.ndarray:
    """Smooth a whole sequence with past and future frames. Pure.

    x: ``(F, C)`` values (any units per channel, NaN missing); t: ``(F,)`` seconds, strictly
    increasing; cutoff: ``(F, C)``, ``(C,)`` or scalar half-gain frequency in Hz (per frame:
    the model's noise density between the previous frame and this one); order: 2 or 3;
    noise: ``(F, C)``, ``(C,)`` or scalar relative measurement variance; reset_gap: seconds.
    Returns ``(F, C)`` float64 smoothed values, NaN where ``x`` is NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if x.ndim != 2 or t.shape != x.shape[:1]:
        raise InputError(f"rts_smooth: expected x (F, C) and t (F,), got {x.shape} and {t.shape}")
    f, c = x.shape
    if f == 0:
        return x.copy()
    nz = _noise_per_frame(noise, f, c)
    cut = _noise_per_frame(cutoff, f, c)
    state, records = None, []
    for k in range(f):
        state, rec = forward_step(state, x[k], t[k], cut[k], order, nz[k], reset_gap)
        records.append(rec)
    return backward_means(records)


def frequency_response(f_hz: np.ndarray | float, te: float, cutoff: float, order: int = 3) -> np.ndarray:
    """The smoother's gain at frequency ``f_hz`` (Hz) for a long, evenly sampled (every
    ``te`` seconds), fully observed channel of unit noise: ``S / (S + 1)`` with ``S`` the
    sampled model's signal spectrum ``h (e^{iw} I - F)^-1 Q (e^{-iw} I - F)^-T h^T`` (per
    sample), ``w = 2 pi f te``. Real and in [0, 1]: the smoother adds no phase (no lag)."""
    order = _check_order(order)
    F = transition(te, order)
    Q = process_covariance(te, order) * float(process_density(cutoff, order))
    f_hz = np.atleast_1d(np.asarray(f_hz, dtype=np.float64))
    out = np.empty(f_hz.shape)
    h = np.zeros(order)
    h[0] = 1.0
    for i, f in enumerate(f_hz.reshape(-1)):
        z = np.exp(2j * np.pi * f * te)
        if abs(z - 1.0) < 1e-12:  # zero frequency (or a multiple of the rate): the model's
            out.reshape(-1)[i] = 1.0  # spectrum is infinite there, a constant passes unchanged
            continue
        a = np.linalg.solve(z * np.eye(order) - F, np.eye(order))
        s = float(np.real(h @ a @ Q @ a.conj().T @ h))
        out.reshape(-1)[i] = s / (s + 1.0)
    return out


class FixedLagSmoother:
    """:func:`rts_smooth` as frames arrive: :meth:`push` one frame's ``(C,)`` observations,
    and it returns frames that have at least ``lag`` seconds of later frames behind them,
    smoothed with all of those, as ``[(t, values (C,)), ...]`` in order. Frames leave in
    blocks, so each waits between ``lag`` and ``2 lag`` seconds (plus one frame) and one
    backward pass serves a block (amortised two backward steps a frame). :meth:`flush`
    returns the rest (the end of the sequence). Holds at most ``2 lag`` seconds of steps.

    cutoff, order, reset_gap: as for :func:`rts_smooth`. lag: seconds (>= 0); 0 releases
    each frame at once, filtered only (a causal Kalman filter).
    """

    def __init__(
        self, cutoff: np.ndarray | float, order: int = 3, lag: float = 1.0, reset_gap: float = math.inf
    ) -> None:
        if not (math.isfinite(lag) and lag >= 0.0):
            raise ConfigError(f"smoother lag must be seconds >= 0, got {lag!r}")
        self.cutoff = cutoff
        self.order = _check_order(order)
        self.lag = float(lag)
        self.reset_gap = reset_gap
        self.state: KalmanState | None = None
        self._records: deque[StepRecord] = deque()

    def push(self, x: np.ndarray, t: float, noise: np.ndarray | float = 1.0) -> list[tuple[float, np.ndarray]]:
        self._forward(x, t, noise)
        if t - self._records[0].t < 2.0 * self.lag:
            return []
        # Release in blocks: every frame with at least ``lag`` seconds behind it, so one
        # backward pass over at most 2 lag seconds serves about lag seconds of frames.
        n = 0
        while n < len(self._records) and t - self._records[n].t >= self.lag:
            n += 1
        return self._release(n)

    def flush(self) -> list[tuple[float, np.ndarray]]:
        """Every frame not yet released (the sequence ended)."""
        return self._release(len(self._records))

    def _forward(self, x: np.ndarray, t: float, noise: np.ndarray | float) -> StepRecord:
        """One forward step; its record is appended to the held ones and returned."""
        self.state, rec = forward_step(self.state, x, t, self.cutoff, self.order, noise, self.reset_gap)
        self._records.append(rec)
        return rec

    def _release(self, n: int) -> list[tuple[float, np.ndarray]]:
        """Release the oldest ``n`` held frames, smoothed with every frame pushed so far."""
        if n == 0:
            return []
        values = self._select(backward_means(list(self._records)))
        return [(self._records.popleft().t, values[k]) for k in range(n)]

    def _select(self, values: np.ndarray) -> np.ndarray:
        """The released ``(n, C)`` values from the backward pass's (the identity here)."""
        return values


class AdaptiveFixedLagSmoother(FixedLagSmoother):
    """:class:`FixedLagSmoother` whose cutoff each group of channels picks from the data, by
    maximum likelihood.

    Every channel runs through a bank of ``K`` smoothers, one per ``grid`` cutoff (Hz,
    ascending). For each group (``groups[c]``, e.g. the x and y of one landmark) and each
    grid cutoff, the model's log-likelihood of everything pushed so far is summed over the
    group's channels from the Kalman filter's innovations ``v`` and their predicted variances
    ``S`` (relative units)::

        log L = -1/2 (n log(sum v^2 / S / n) + sum log S)      per channel, n innovations

    i.e. with each channel's measurement-noise variance set to its maximum-likelihood value
    (profiled out), so a channel's units and noise level do not matter, only how its motion
    and noise share the spectrum. The first ``order`` updates after a channel (re)starts,
    which the uninformative prior dominates, are left out. A group's frames are released from
    the bank ``shift`` grid steps above its most likely cutoff (``shift`` > 0: a little sharper
    than the likelihood's choice, which trades a little noise for less distortion of fast
    motion); the likelihood uses every frame pushed so far, so the choice settles as evidence
    accumulates. Until a group has evidence its frames come from grid index ``default``.
    Each bank is an RTS smoother of fixed cutoff: no lag, whatever is chosen.

    grid: ``(K,)`` Hz, ascending (> 0). groups: ``(C,)`` ints in ``[0, G)``. shift: grid steps
    (``0 <= shift < K``). default: a grid index. order, lag, reset_gap: as for
    :class:`FixedLagSmoother`. Costs ``K`` times a :class:`FixedLagSmoother` of ``C`` channels.
    """

    def __init__(
        self,
        grid: np.ndarray,
        groups: np.ndarray,
        shift: int = 0,
        order: int = 3,
        lag: float = 1.0,
        reset_gap: float = math.inf,
        default: int = 0,
    ) -> None:
        grid = np.asarray(grid, dtype=np.float64).reshape(-1)
        groups = np.asarray(groups).reshape(-1)
        if grid.size == 0 or not (np.isfinite(grid).all() and (grid > 0).all() and (np.diff(grid) > 0).all()):
            raise ConfigError(f"adaptive smoother: grid must be ascending cutoffs > 0 Hz, got {grid!r}")
        if groups.size == 0 or not np.issubdtype(groups.dtype, np.integer) or groups.min() < 0:
            raise ConfigError("adaptive smoother: groups must be non-negative integer labels, one per channel")
        if not (0 <= int(shift) < grid.size) or not (0 <= int(default) < grid.size):
            raise ConfigError(f"adaptive smoother: shift and default must be grid indices, got {shift!r}, {default!r}")
        self.grid = grid
        self.groups = groups.astype(np.int64)
        self.shift = int(shift)
        self.default = int(default)
        c, k = groups.size, grid.size
        super().__init__(np.repeat(grid, c), order, lag, reset_gap)
        self._c = c
        self._since = np.zeros(c, dtype=np.int64)  # updates since each channel (re)started
        self._n = np.zeros(c)
        self._sum_sq = np.zeros((k, c))
        self._sum_log = np.zeros((k, c))

    def push(self, x: np.ndarray, t: float, noise: np.ndarray | float = 1.0) -> list[tuple[float, np.ndarray]]:
        """As :meth:`FixedLagSmoother.push`: x ``(C,)`` observations (NaN missing), t seconds,
        noise ``(C,)`` or scalar relative variance. Returns ``[(t, values (C,)), ...]``."""
        return super().push(x, t, noise)

    def _forward(self, x: np.ndarray, t: float, noise: np.ndarray | float) -> StepRecord:
        k, c = self.grid.size, self._c
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if x.size != c:
            raise InputError(f"adaptive smoother: expected {c} channels, got {x.size}")
        nz = np.broadcast_to(np.asarray(noise, dtype=np.float64), (c,))
        rec = super()._forward(np.tile(x, k), t, np.tile(nz, k))
        upd, restart = rec.updated[:c], rec.restart[:c]
        self._since = np.where(restart, 0, self._since + upd)
        counted = upd & (self._since >= self.order)
        self._n += counted
        self._sum_sq += np.where(counted, rec.innovation_sq.reshape(k, c), 0.0)
        self._sum_log += np.where(counted, rec.log_variance.reshape(k, c), 0.0)
        return rec

    def log_likelihood(self) -> np.ndarray:
        """``(K, G)`` log-likelihood of each group's observations so far at each grid cutoff
        (up to a constant; 0 for a group without evidence)."""
        n = self._n
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = -0.5 * (n * np.log(np.maximum(self._sum_sq, 1e-300) / n) + self._sum_log)
        ll = np.where(n > 0, ll, 0.0)
        g = int(self.groups.max()) + 1
        return np.stack([np.bincount(self.groups, weights=row, minlength=g) for row in ll])

    def chosen(self) -> np.ndarray:
        """``(G,)`` grid index each group's frames are released from now."""
        ll = self.log_likelihood()[: self.grid.size - self.shift]
        g = ll.shape[1]
        evidence = np.bincount(self.groups, weights=self._n, minlength=g) > 0
        return np.where(evidence, np.argmax(ll, axis=0) + self.shift, self.default)

    def cutoffs(self) -> np.ndarray:
        """``(C,)`` Hz: the cutoff each channel's frames are released at now."""
        return self.grid[self.chosen()[self.groups]]

    def _select(self, values: np.ndarray) -> np.ndarray:
        sel = self.chosen()[self.groups]
        banked = values.reshape(values.shape[0], self.grid.size, self._c)
        return banked[:, sel, np.arange(self._c)]
