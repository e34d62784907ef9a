"""Accuracy, smoothness and latency metrics against ground truth. Pure numpy, no state.

Conventions shared by every function here
-----------------------------------------
* ``F`` frames, ``N`` points (33 BlazePose landmarks, or any other count where stated).
* Missing values are NaN. A NaN *prediction* is a miss (counts against PCK); a NaN *ground
  truth* point or frame is left out of every score.
* Pixel arrays: x right, y down, origin top-left. 3D arrays: any right-handed metric frame
  (metres) as long as prediction and ground truth share scale conventions per function.
* Every function returns a Python ``float``; NaN when there is nothing to score.
"""

from __future__ import annotations

import numpy as np

from ..landmarks import NUM_LANDMARKS
from ..landmarks import PoseLandmark as L

__all__ = [
    "torso_sizes",
    "pixel_errors",
    "pck",
    "median_px_error",
    "procrustes_align",
    "mpjpe_procrustes",
    "acceleration",
    "jitter",
    "lag_frames",
    "detection_rate",
]


def _check(name: str, a: np.ndarray, ndim: int, last: int | None = None) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != ndim or (last is not None and a.shape[-1] != last):
        want = f"{ndim}-D" + (f" with last axis {last}" if last is not None else "")
        raise ValueError(f"{name} must be {want}, got shape {a.shape}")
    return a


def _same_shape(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {a.shape} and {b.shape}")


def torso_sizes(points: np.ndarray) -> np.ndarray:
    """Per-frame torso size (the PCK reference length).

    points: ``(F, 33, D)`` landmark positions (pixels or metres), D >= 2; only the first two
    columns are used when D == 5 (image landmark arrays), all D otherwise.
    Returns ``(F,)``: the mean of the two shoulder-to-opposite-hip distances, in the input's
    units; NaN for frames missing a torso landmark. Same definition as
    :func:`arpose.landmarks.torso_size`.
    """
    p = _check("points", points, 3)
    if p.shape[1] != NUM_LANDMARKS:
        raise ValueError(f"points must be (F, {NUM_LANDMARKS}, D), got shape {p.shape}")
    if p.shape[2] == 5:
        p = p[..., :2]
    d1 = np.linalg.norm(p[:, L.LEFT_SHOULDER] - p[:, L.RIGHT_HIP], axis=-1)
    d2 = np.linalg.norm(p[:, L.RIGHT_SHOULDER] - p[:, L.LEFT_HIP], axis=-1)
    return (d1 + d2) / 2.0


def pixel_errors(pred_px: np.ndarray, gt_px: np.ndarray) -> np.ndarray:
    """``(F, N)`` Euclidean distances between ``(F, N, 2)`` predicted and true pixels
    (NaN where either is missing)."""
    p = _check("pred_px", pred_px, 3, 2)
    g = _check("gt_px", gt_px, 3, 2)
    _same_shape(p, g, "pred_px and gt_px")
    return np.linalg.norm(p - g, axis=-1)


def pck(pred_px: np.ndarray, gt_px: np.ndarray, torso_px: np.ndarray, thresh: float = 0.2) -> float:
    """Percentage of correct keypoints as a fraction in [0, 1].

    pred_px, gt_px: ``(F, N, 2)`` pixels. torso_px: ``(F,)`` reference length per frame in
    pixels (usually :func:`torso_sizes` of the ground truth). A point is correct when its error
    is at most ``thresh * torso_px``. Predicted NaN (missed frame or point) counts as
    incorrect; points whose ground truth or torso size is NaN are not scored.
    """
    d = pixel_errors(pred_px, gt_px)
    torso = _check("torso_px", torso_px, 1)
    if torso.shape[0] != d.shape[0]:
        raise ValueError(f"torso_px must be ({d.shape[0]},), got shape {torso.shape}")
    g = np.asarray(gt_px, dtype=np.float64)
    scored = np.isfinite(g).all(axis=-1) & np.isfinite(torso)[:, None]
    if not scored.any():
        return float("nan")
    ok = np.zeros_like(scored)
    finite = scored & np.isfinite(d)
    ok[finite] = d[finite] <= (thresh * np.broadcast_to(torso[:, None], d.shape))[finite]
    return float(ok[scored].mean())


def median_px_error(pred_px: np.ndarray, gt_px: np.ndarray) -> float:
    """Median pixel distance over every ``(frame, point)`` where both ``(F, N, 2)`` arrays are
    finite (missed detections are left out; report them with :func:`detection_rate`)."""
    d = pixel_errors(pred_px, gt_px)
    d = d[np.isfinite(d)]
    return float(np.median(d)) if d.size else float("nan")


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Similarity-align one frame's points to ground truth (Umeyama: scale, rotation, translation).

    pred, gt: ``(N, 3)`` points; rows with a NaN in either are ignored for the fit and stay
    NaN in the output. Returns ``(N, 3)`` ``s * R @ pred + t`` minimising the squared distance
    to ``gt``, with ``R`` a proper rotation (no reflection). All NaN if fewer than 3 rows are
    usable.
    """
    p = _check("pred", pred, 2, 3)
    g = _check("gt", gt, 2, 3)
    _same_shape(p, g, "pred and gt")
    ok = np.isfinite(p).all(axis=1) & np.isfinite(g).all(axis=1)
    out = np.full_like(p, np.nan)
    if ok.sum() < 3:
        return out
    a, b = p[ok], g[ok]
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - ma, b - mb
    var_a = (a0**2).sum()
    if var_a <= 0.0:
        return out
    u, s, vt = np.linalg.svd(b0.T @ a0)
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1.0
    r = u @ np.diag(d) @ vt
    scale = (s * d).sum() / var_a
    out[ok] = scale * a @ r.T + (mb - scale * r @ ma)
    return out


def mpjpe_procrustes(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint position error after per-frame similarity Procrustes, in millimetres.

    pred, gt: ``(F, N, 3)`` metres (e.g. world landmarks vs ground-truth markers; the frames
    may differ by any rotation, translation and scale, which the alignment removes). Frames
    where fewer than 3 points are usable are skipped; NaN if none is usable.
    """
    p = _check("pred", pred, 3, 3)
    g = _check("gt", gt, 3, 3)
    _same_shape(p, g, "pred and gt")
    errs = []
    for pf, gf in zip(p, g):
        al = procrustes_align(pf, gf)
        e = np.linalg.norm(al - gf, axis=1)
        e = e[np.isfinite(e)]
        if e.size:
            errs.append(e.mean())
    return float(np.mean(errs) * 1000.0) if errs else float("nan")


def acceleration(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Second time derivative by non-uniform central differences.

    x: ``(F, ...)`` positions in any units; t: ``(F,)`` seconds, strictly increasing.
    Returns ``(F - 2, ...)`` in units/s^2 at the inner frames:
    ``2 * (v_next - v_prev) / (t[i+1] - t[i-1])`` with ``v`` the one-sided velocities.
    """
    x = np.asarray(x, dtype=np.float64)
    t = _check("t", t, 1)
    if x.shape[0] != t.shape[0]:
        raise ValueError(f"x has {x.shape[0]} frames but t has {t.shape[0]}")
    if t.size >= 2 and not (np.diff(t) > 0).all():
        raise ValueError("t must be strictly increasing")
    if x.shape[0] < 3:
        return np.zeros((0,) + x.shape[1:])
    shape = (-1,) + (1,) * (x.ndim - 1)
    dt = np.diff(t).reshape(shape)
    v = np.diff(x, axis=0) / dt
    span = (t[2:] - t[:-2]).reshape(shape)
    return 2.0 * (v[1:] - v[:-1]) / span


def jitter(x: np.ndarray, t: np.ndarray) -> float:
    """Mean magnitude of acceleration, a smoothness score (lower is steadier).

    x: ``(F, N, 3)`` positions (e.g. metres); t: ``(F,)`` seconds. Returns the mean over inner
    frames and points of ``|a|`` in units/s^2 (m/s^2 for metres), ignoring NaN. Compare an
    estimate's jitter with the ground truth's: the truth has real acceleration too.
    """
    x = _check("x", x, 3)
    a = np.linalg.norm(acceleration(x, t), axis=-1)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else float("nan")


def lag_frames(est: np.ndarray, ref: np.ndarray, max_lag: int | None = None) -> float:
    """Delay of ``est`` behind ``ref`` in frames, by cross-correlating their velocities.

    est, ref: ``(F, ...)`` the same quantity sampled on the same frames (e.g. ``(F, 33, 3)``
    world landmarks). Velocities (first differences) of every channel are cross-correlated,
    with NaN pairs left out, over lags ``-max_lag..max_lag`` (default ``min(30, F // 3)``);
    the peak is refined to sub-frame precision by a parabola through its neighbours.
    Positive means ``est`` is behind (``est[t] ~ ref[t - lag]``). NaN if nothing moves.
    """
    e = np.asarray(est, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    _same_shape(e, r, "est and ref")
    n = e.shape[0]
    if n < 4:
        return float("nan")
    ve = np.diff(e.reshape(n, -1), axis=0)
    vr = np.diff(r.reshape(n, -1), axis=0)
    m = ve.shape[0]
    max_lag = min(30, m // 3) if max_lag is None else int(max_lag)
    max_lag = max(1, min(max_lag, m - 2))
    lags = np.arange(-max_lag, max_lag + 1)
    corr = np.full(lags.size, np.nan)
    for i, k in enumerate(lags):
        a = ve[k:] if k >= 0 else ve[: m + k]
        b = vr[: m - k] if k >= 0 else vr[-k:]
        ok = np.isfinite(a) & np.isfinite(b)
        if not ok.any():
            continue
        a0, b0 = np.where(ok, a, 0.0), np.where(ok, b, 0.0)
        den = np.sqrt((a0**2).sum() * (b0**2).sum())
        if den > 0:
            corr[i] = (a0 * b0).sum() / den
    if not np.isfinite(corr).any():
        return float("nan")
    j = int(np.nanargmax(corr))
    lag = float(lags[j])
    if 0 < j < lags.size - 1 and np.isfinite(corr[j - 1]) and np.isfinite(corr[j + 1]):
        c0, c1, c2 = corr[j - 1], corr[j], corr[j + 1]
        den = c0 - 2.0 * c1 + c2
        if den < 0:
            lag += 0.5 * (c0 - c2) / den
    return lag


def detection_rate(pred: np.ndarray) -> float:
    """Fraction of frames with a detection: ``pred`` ``(F, N, D)``, a frame counts when any
    of its values is finite."""
    p = np.asarray(pred, dtype=np.float64)
    if p.shape[0] == 0:
        return float("nan")
    return float(np.isfinite(p.reshape(p.shape[0], -1)).any(axis=1).mean())
