"""MediaPipe's own landmark filters, reproduced step for step (pure steps + thin wrappers).

BlazePose's graph always runs a One Euro filter on the two auxiliary landmarks (hip centre and
body-circle point) before it turns them into the next frame's region of interest, even with
``smooth_landmarks`` off; to track the same regions as MediaPipe the backend has to run the
same filter. This is MediaPipe's variant (``mediapipe/util/filtering/one_euro_filter.cc``,
``low_pass_filter.cc``, ``landmarks_smoothing_calculator_utils.cc``), which differs from
:mod:`arpose.smooth.one_euro` (the product's filter) on purpose:

* the speed is measured against the previous *raw* value, times ``value_scale`` (one over the
  object's size in pixels) and the sampling frequency;
* the frequency is ``1 / (t - t_prev)`` from integer nanosecond timestamps, except that a
  previous timestamp of exactly 0 keeps the configured frequency (MediaPipe's check), and the
  first step sees ``t_prev = -1 ns``;
* a timestamp not after the previous one returns the input unchanged and leaves the state;
* all elements of a landmark list share one timestamp, so the filter is vectorised.

:func:`one_euro_step` and :func:`low_pass_step` are pure; :class:`MediaPipeOneEuro` and
:class:`VisibilityLowPass` hold the state and ``reset()`` it when a pose is lost, as the
calculators do on an empty packet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .graph import OneEuroOptions

__all__ = [
    "MediaPipeOneEuro",
    "OneEuroState",
    "VisibilityLowPass",
    "low_pass_step",
    "object_scale",
    "one_euro_step",
    "smoothing_alpha",
]

_UNINITIALISED_NS = -1


@dataclass(frozen=True)
class OneEuroState:
    """Memory of :func:`one_euro_step` for arrays of one shape.

    last_ns: timestamp of the last accepted step, integer nanoseconds (-1 before the first).
    frequency: Hz, the current sampling frequency.
    raw: last raw input (float32, the input's shape); value: last filtered output;
    speed: last low-passed speed (value units times ``value_scale`` per second).
    """

    last_ns: int
    frequency: float
    raw: np.ndarray | None = None
    value: np.ndarray | None = None
    speed: np.ndarray | None = None


def smoothing_alpha(frequency: float, cutoff: np.ndarray | float) -> np.ndarray:
    """``1 / (1 + tau / te)`` with ``te = 1 / frequency`` (s) and ``tau = 1 / (2 pi cutoff)``
    (MediaPipe's ``OneEuroFilter::GetAlpha``); broadcasts over ``cutoff`` (Hz)."""
    te = 1.0 / frequency
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / te)


def _low_pass(stored: np.ndarray | None, value: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """``LowPassFilter::Apply`` as MediaPipe's binary computes it, with float32 value and alpha:
    ``alpha * value`` rounded to float32, then ``(1.0 - alpha) * stored`` added to it in one
    fused multiply-add in double (the wheel is built with FMA contraction; measured: this and
    only this matches its output bit for bit), rounded to float32.

    The fused operation is emulated in ``np.longdouble`` (80-bit on x86-64 Linux), which
    rounds like it except in vanishingly rare cases; where ``longdouble`` is plain double the
    result may differ in the last bit now and then.
    """
    value = np.asarray(value, dtype=np.float32)
    if stored is None:
        return value.copy()
    a = np.asarray(alpha, dtype=np.float32)
    first = (a * value).astype(np.longdouble)
    rest = (1.0 - a.astype(np.float64)).astype(np.longdouble) * np.asarray(stored, dtype=np.longdouble)
    return (rest + first).astype(np.float64).astype(np.float32)


def one_euro_step(
    state: OneEuroState | None, x: np.ndarray, t_ns: int, opts: OneEuroOptions, value_scale: float = 1.0
) -> tuple[np.ndarray, OneEuroState]:
    """One step of MediaPipe's One Euro filter over every element of ``x``.

    state: previous state or ``None`` (a fresh filter). x: float32 array of any shape (e.g.
    ``(n, 3)`` landmark pixels). t_ns: timestamp, integer nanoseconds. value_scale: multiplies
    the speed (MediaPipe: one over the object's size in pixels, 1 when scaling is disabled).
    Returns ``(y, new_state)``: y float32 of ``x``'s shape. Pure.
    """
    x = np.asarray(x, dtype=np.float32)
    if state is None:
        state = OneEuroState(last_ns=_UNINITIALISED_NS, frequency=float(opts.frequency))
    t_ns = int(t_ns)
    if state.last_ns >= t_ns:
        return x.copy(), state
    frequency = state.frequency
    if state.last_ns != 0 and t_ns != 0:
        frequency = 1.0 / ((t_ns - state.last_ns) * 1e-9)
    if state.raw is None:
        d = np.zeros(x.shape, dtype=np.float64)
    else:
        d = (x.astype(np.float64) - state.raw) * float(value_scale) * frequency
    speed = _low_pass(state.speed, d.astype(np.float32), smoothing_alpha(frequency, opts.derivate_cutoff))
    cutoff = float(opts.min_cutoff) + float(opts.beta) * np.abs(speed.astype(np.float64))
    y = _low_pass(state.value, x, smoothing_alpha(frequency, cutoff))
    return y, OneEuroState(last_ns=t_ns, frequency=frequency, raw=x, value=y, speed=speed)


def low_pass_step(stored: np.ndarray | None, x: np.ndarray, alpha: float) -> np.ndarray:
    """MediaPipe's ``LowPassFilter``: the first value passes, then ``alpha x + (1 - alpha) prev``.
    x: array of any shape; returns float32 of its shape (the new stored value). Pure."""
    return _low_pass(stored, np.asarray(x, dtype=np.float32), alpha)


class MediaPipeOneEuro:
    """Stateful :func:`one_euro_step` (one filter per element, shared timestamps).

    ``y = f(x, t_ns, object_scale)``: with scaling enabled (``opts.disable_value_scaling`` false)
    the speed is divided by ``object_scale`` (pixels); an object smaller than
    ``opts.min_allowed_object_scale`` passes through untouched, as in MediaPipe.
    """

    def __init__(self, opts: OneEuroOptions) -> None:
        self.opts = opts
        self.state: OneEuroState | None = None

    def __call__(self, x: np.ndarray, t_ns: int, object_scale: float | None = None) -> np.ndarray:
        value_scale = 1.0
        if not self.opts.disable_value_scaling:
            if object_scale is None:
                raise ValueError("this filter scales by the object's size: pass object_scale")
            if object_scale < np.float32(self.opts.min_allowed_object_scale):
                return np.asarray(x, dtype=np.float32).copy()
            value_scale = float(np.float32(1.0) / np.float32(object_scale))
        y, self.state = one_euro_step(self.state, x, t_ns, self.opts, value_scale)
        return y

    def reset(self) -> None:
        self.state = None


def object_scale(roi_width: float, roi_height: float, image_size: tuple[int, int]) -> np.float32:
    """MediaPipe's ``GetObjectScale`` of a normalised rect: the mean of its width and height in
    pixels (float32). ``image_size``: ``(width, height)``."""
    f = np.float32
    return (f(roi_width) * f(image_size[0]) + f(roi_height) * f(image_size[1])) / f(2.0)


class VisibilityLowPass:
    """MediaPipe's ``VisibilitySmoothingCalculator`` (low-pass filter): ``y = f(visibility)``
    on an ``(n,)`` float32 array; ``reset()`` when the pose is lost."""

    def __init__(self, alpha: float) -> None:
        self.alpha = float(alpha)
        self.stored: np.ndarray | None = None

    def __call__(self, visibility: np.ndarray) -> np.ndarray:
        self.stored = low_pass_step(self.stored, visibility, self.alpha)
        return self.stored.copy()

    def reset(self) -> None:
        self.stored = None
