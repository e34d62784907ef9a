"""The body's 6D pose in camera space: a perspective-n-point fit of the 33 world landmarks
(metres) to the 33 image landmarks (pixels) through the camera intrinsics.

Frames: the fit returns ``R, t`` with ``camera = R @ world_mp + t`` where *world_mp* is
MediaPipe's world frame (origin between the hips, x image-right, y down, z away) and *camera*
the OpenCV camera frame (x right, y down, z forward, metres). ``t`` is therefore the hip
centre in the camera frame. In rig axes (:data:`arpose.skeleton.MP_TO_RIG`, ``M``):
``world_rig = (M R M) @ points_rig + M t``.

Depth caveat: MediaPipe's world landmarks follow an *average* body size, so the distance
``t_z`` is only right for an average-sized adult (a child 20 % smaller appears 20 % farther
away) and only as good as the field of view given (``--fov``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._cv import cv2
from ..landmarks import NUM_LANDMARKS
from ..types import Camera
from .solver import visibility_or_zero


@dataclass(frozen=True)
class RootFitConfig:
    """min_visibility: landmarks below this are left out of the fit. min_points: fewer
    usable landmarks than this gives no fit. rotation: also fit the rotation between
    MediaPipe's world axes and the camera (else it is taken as the identity: MediaPipe's world
    axes are nominally camera-aligned)."""

    min_visibility: float = 0.5
    min_points: int = 6
    rotation: bool = True


@dataclass(frozen=True)
class RootFit:
    """rotation: ``(3, 3)`` MediaPipe world -> camera; translation: ``(3,)`` metres, the hip
    centre in the camera frame; rms_px: RMS reprojection error of the points used (pixels);
    points: how many landmarks were used."""

    rotation: np.ndarray
    translation: np.ndarray
    rms_px: float
    points: int


def _translation_only(obj: np.ndarray, px: np.ndarray, camera: Camera) -> np.ndarray | None:
    """Least-squares ``t`` for ``R = I``: ``(u - cx)(Z + tz) = fx (X + tx)`` (and likewise
    for v) is linear in ``t``."""
    u = (px[:, 0] - camera.cx) / camera.fx
    v = (px[:, 1] - camera.cy) / camera.fy
    n = len(obj)
    a = np.zeros((2 * n, 3))
    rhs = np.zeros(2 * n)
    a[:n, 0] = 1.0
    a[:n, 2] = -u
    rhs[:n] = u * obj[:, 2] - obj[:, 0]
    a[n:, 1] = 1.0
    a[n:, 2] = -v
    rhs[n:] = v * obj[:, 2] - obj[:, 1]
    t, *_ = np.linalg.lstsq(a, rhs, rcond=None)
    return t if np.all(np.isfinite(t)) and t[2] > 0 else None


def fit_root_pose(
    world: np.ndarray,
    pixels: np.ndarray,
    visibility: np.ndarray,
    camera: Camera,
    config: RootFitConfig = RootFitConfig(),
    guess: RootFit | None = None,
) -> RootFit | None:
    """Fit the camera-space pose of the MediaPipe world frame.

    world: ``(33, 3)`` MediaPipe world landmarks (metres). pixels: ``(33, 2)`` image landmarks
    in pixels (x right, y down). visibility: ``(33,)`` in [0, 1]. camera: intrinsics.
    guess: the previous frame's fit, used as the starting point (keeps the solution on the
    same branch from frame to frame).
    Returns ``None`` when too few landmarks are usable or the fit lands behind the camera.
    """
    w = np.asarray(world, dtype=np.float64)
    px = np.asarray(pixels, dtype=np.float64)
    if w.shape != (NUM_LANDMARKS, 3) or px.shape != (NUM_LANDMARKS, 2):
        raise ValueError(f"world must be (33, 3) and pixels (33, 2), got {w.shape} and {px.shape}")
    vis = visibility_or_zero(visibility)
    use = (vis >= config.min_visibility) & np.isfinite(w).all(axis=1) & np.isfinite(px).all(axis=1)
    n = int(np.count_nonzero(use))
    if n < config.min_points:
        return None
    obj, img = w[use], px[use]
    if guess is not None and np.all(np.isfinite(guess.translation)):
        rvec = cv2.Rodrigues(guess.rotation)[0]
        tvec = guess.translation.reshape(3, 1).copy()
    else:
        t0 = _translation_only(obj, img, camera)
        if t0 is None:
            return None
        rvec, tvec = np.zeros((3, 1)), t0.reshape(3, 1)
    if config.rotation:
        ok, rvec, tvec = cv2.solvePnP(
            obj, img, camera.K, None, rvec=rvec, tvec=tvec, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
        )
        if not ok:
            return None
        rot = cv2.Rodrigues(rvec)[0]
    else:
        t0 = _translation_only(obj, img, camera)
        if t0 is None:
            return None
        rot, tvec = np.eye(3), t0.reshape(3, 1)
    t = tvec.reshape(3)
    cam = obj @ rot.T + t
    if not np.isfinite(t).all() or (cam[:, 2] <= 0).any():
        return None
    err = cam[:, :2] * (camera.fx, camera.fy) / cam[:, 2:] + (camera.cx, camera.cy) - img  # Camera.project - img
    rms = math.sqrt(float(np.einsum("ij,ij->", err, err)) / n)
    return RootFit(rotation=rot, translation=t, rms_px=rms, points=n)
