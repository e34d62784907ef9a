"""Regions of interest of BlazePose's graph: from keypoints, transformed, cropped, projected
back (pure functions).

A :class:`Roi` is MediaPipe's ``NormalizedRect``: centre and size normalised to the image
(x by the width, y by the height), rotation in radians, positive turning the region's up
direction clockwise on screen (image y points down).

* :func:`roi_from_keypoints`: ``AlignmentPointsRectsCalculator`` plus the rotation of
  ``DetectionsToRectsCalculator`` (centre at one keypoint, side twice the distance to another).
* :func:`transform_roi`: ``RectTransformationCalculator`` (shift, square on the long side, scale).
* :func:`crop_transform`: ``ImageToTensorCalculator``'s region in pixels, its letterbox padding
  (``keep_aspect_ratio``) and the projective matrix its OpenCV path warps with;
  :func:`warp_to_tensor` cuts the region in one warp.
* :func:`project_landmarks` / :func:`rotate_world`: ``LandmarkLetterboxRemovalCalculator`` +
  ``LandmarkProjectionCalculator`` and ``WorldLandmarkProjectionCalculator``.
* :func:`warp_mask`: ``InverseMatrixCalculator`` + ``WarpAffineCalculator`` taking the
  tensor-space mask back onto the image.

Arithmetic follows MediaPipe's: float32 with the same order of operations (transcendental
functions in double, rounded to float32), so regions tracked from frame to frame stay within
rounding of MediaPipe's own. That matters: the landmark model turns sub-pixel changes of its
crop into landmark changes of up to several pixels, and tracking feeds them back.

Pixel convention (OpenCV's, as MediaPipe's CPU path uses): the region's corners map onto the
tensor's corners ``(0, 0)`` and ``(W_t, H_t)``, and tensor pixel ``(u, v)`` samples the image at
``centre + R(rotation) @ ((u / W_t - 1/2) w, (v / H_t - 1/2) h)`` (pixels, ``w, h`` the padded
region size).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._cv import cv2
from .graph import RoiOptions, TensorInput

__all__ = [
    "Crop",
    "Roi",
    "crop_transform",
    "normalize_radians",
    "project_landmarks",
    "roi_from_keypoints",
    "rotate_world",
    "tensor_points",
    "transform_roi",
    "warp_mask",
    "warp_to_tensor",
]

_f = np.float32
_BORDERS = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}


def _libm_float_functions() -> tuple[Callable[..., float], ...] | None:
    """The C library's single-precision ``cosf``, ``sinf``, ``atan2f`` (what MediaPipe's
    ``std::cos(float)`` etc. call), or ``None`` where they cannot be loaded."""
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        funcs = []
        for name, nargs in (("cosf", 1), ("sinf", 1), ("atan2f", 2)):
            fn = getattr(libm, name)
            fn.restype = ctypes.c_float
            fn.argtypes = [ctypes.c_float] * nargs
            funcs.append(fn)
        return tuple(funcs)
    except (OSError, AttributeError):
        return None


_LIBM = _libm_float_functions()


def _cos(a: np.float32) -> np.float32:
    """float32 cosine as the C library's ``cosf`` (double cosine rounded where it is missing)."""
    return _f(_LIBM[0](float(a))) if _LIBM else _f(math.cos(float(a)))


def _sin(a: np.float32) -> np.float32:
    return _f(_LIBM[1](float(a))) if _LIBM else _f(math.sin(float(a)))


def _atan2(y: np.float32, x: np.float32) -> np.float32:
    return _f(_LIBM[2](float(y), float(x))) if _LIBM else _f(math.atan2(float(y), float(x)))


@dataclass(frozen=True)
class Roi:
    """A rotated rectangle normalised to the image (MediaPipe ``NormalizedRect``).

    x_center, y_center: centre, fractions of the image width and height.
    width, height: size, fractions of the image width and height.
    rotation: radians in [-pi, pi), clockwise on screen.
    Values are float32 numbers (held as Python floats).
    """

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0

    @classmethod
    def whole_image(cls) -> "Roi":
        """The whole image, unrotated (the detector's input region)."""
        return cls(0.5, 0.5, 1.0, 1.0, 0.0)

    def pixels(self, image_size: tuple[int, int]) -> tuple[np.float32, ...]:
        """``(cx, cy, w, h, rotation)`` float32, pixels of an image of ``(width, height)``."""
        W, H = _f(image_size[0]), _f(image_size[1])
        return (
            _f(self.x_center) * W,
            _f(self.y_center) * H,
            _f(self.width) * W,
            _f(self.height) * H,
            _f(self.rotation),
        )


def _roi(*values: np.float32) -> Roi:
    return Roi(*(float(v) for v in values))


def normalize_radians(angle: float) -> np.float32:
    """``angle`` wrapped into [-pi, pi) (MediaPipe's ``NormalizeRadians``: double arithmetic,
    float32 result)."""
    a = float(angle)
    return _f(a - 2.0 * math.pi * math.floor((a + math.pi) / (2.0 * math.pi)))


def roi_from_keypoints(keypoints: np.ndarray, image_size: tuple[int, int], opts: RoiOptions) -> Roi:
    """The untransformed region of two alignment keypoints.

    keypoints: ``(k, 2)`` normalised ``[x, y]`` (detector keypoints or auxiliary landmarks).
    image_size: ``(width, height)`` in pixels. Centre: ``keypoints[start]``; side, in pixels:
    twice the distance from it to ``keypoints[end]`` (a square in pixels); rotation:
    ``target_angle - atan2(-(y1 - y0), x1 - x0)`` in pixels, so an end keypoint straight above
    the start gives 0.
    """
    W, H = _f(image_size[0]), _f(image_size[1])
    kp = np.asarray(keypoints, dtype=np.float32)
    x0, y0 = kp[opts.start_keypoint, 0] * W, kp[opts.start_keypoint, 1] * H
    x1, y1 = kp[opts.end_keypoint, 0] * W, kp[opts.end_keypoint, 1] * H
    dx, dy = x1 - x0, y1 - y0
    size = _f(float(np.sqrt(dx * dx + dy * dy)) * 2.0)
    angle = _atan2(-dy, dx)
    rotation = normalize_radians(_f(opts.target_angle) - angle)
    return _roi(x0 / W, y0 / H, size / W, size / H, rotation)


def transform_roi(roi: Roi, image_size: tuple[int, int], opts: RoiOptions) -> Roi:
    """``RectTransformationCalculator`` on a normalised rect: shift along the rotated axes,
    square on the long side in pixels, then scale. ``image_size``: ``(width, height)``."""
    W, H = _f(image_size[0]), _f(image_size[1])
    width, height, rot = _f(roi.width), _f(roi.height), _f(roi.rotation)
    xc, yc = _f(roi.x_center), _f(roi.y_center)
    sx, sy = _f(opts.shift_x), _f(opts.shift_y)
    if rot == 0:
        xc = xc + width * sx
        yc = yc + height * sy
    else:
        c, s = _cos(rot), _sin(rot)
        xc = xc + (W * width * sx * c - H * height * sy * s) / W
        yc = yc + (W * width * sx * s + H * height * sy * c) / H
    if opts.square_long:
        long_side = max(width * W, height * H)
        width, height = long_side / W, long_side / H
    return _roi(xc, yc, width * _f(opts.scale_x), height * _f(opts.scale_y), rot)


@dataclass(frozen=True)
class Crop:
    """Where a model input was cut from.

    matrix: ``(3, 3)`` float64, image pixels to tensor pixels (an affine map written as the
        projective matrix MediaPipe builds from the region's corners).
    padding: ``(4,)`` float32 ``[left, top, right, bottom]``, fractions of the tensor outside
        the region (letterbox of ``keep_aspect_ratio``).
    rect: ``(cx, cy, w, h, rotation)`` float32, the padded region in image pixels.
    """

    matrix: np.ndarray
    padding: np.ndarray
    rect: tuple[np.float32, np.float32, np.float32, np.float32, np.float32]


def crop_transform(roi: Roi, image_size: tuple[int, int], tensor: TensorInput) -> Crop:
    """The crop of ``roi`` into a ``tensor.width`` x ``tensor.height`` model input.

    As ``ImageToTensorCalculator``: the region in pixels, widened to the tensor's aspect ratio
    if ``keep_aspect_ratio`` (the padding), its four corners (``cv::RotatedRect::points``) mapped
    onto the tensor's by ``cv::getPerspectiveTransform``.
    """
    cx, cy, w, h, rot = roi.pixels(image_size)
    Wt, Ht = tensor.width, tensor.height
    padding = np.zeros(4, dtype=np.float32)
    if tensor.keep_aspect_ratio:
        tensor_aspect = _f(Ht) / _f(Wt)
        roi_aspect = h / w
        if tensor_aspect > roi_aspect:
            h = w * tensor_aspect
            padding[[1, 3]] = (_f(1.0) - roi_aspect / tensor_aspect) / _f(2.0)
        else:
            w = h / tensor_aspect
            padding[[0, 2]] = (_f(1.0) - tensor_aspect / roi_aspect) / _f(2.0)
    degrees = float(_f(float(rot * _f(180.0)) / math.pi))
    corners = cv2.boxPoints(((float(cx), float(cy)), (float(w), float(h)), degrees)).astype(np.float32)
    target = np.array([[0, Ht], [0, 0], [Wt, 0], [Wt, Ht]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    return Crop(matrix=matrix, padding=padding, rect=(cx, cy, w, h, rot))


def tensor_points(points: np.ndarray, crop: Crop) -> np.ndarray:
    """Image pixels ``(n, 2)`` to tensor pixels ``(n, 2)`` float64 through ``crop.matrix``."""
    p = np.asarray(points, dtype=np.float64)
    q = np.c_[p, np.ones(len(p))] @ crop.matrix.T
    return q[:, :2] / q[:, 2:]


def warp_to_tensor(image: np.ndarray, crop: Crop, tensor: TensorInput) -> np.ndarray:
    """Cut the region out of ``image`` (``(H, W, C)`` uint8, any channel order, kept):
    ``(tensor.height, tensor.width, C)`` uint8, bilinear, border as ``tensor.border``
    (``"zero"``: black), in one warp.

    ``cv2.warpPerspective`` with the (affine) matrix, as MediaPipe's OpenCV converter does:
    ``cv2.warpAffine`` of the same map rounds its sample positions differently (fixed-point
    steps of 1/1024 px) and changes about 1% of the crop's pixel values by 1 to 5 levels,
    enough to move landmarks by up to several pixels (docs/backend.md).
    """
    return cv2.warpPerspective(
        image,
        crop.matrix,
        (tensor.width, tensor.height),
        flags=cv2.INTER_LINEAR,
        borderMode=_BORDERS[tensor.border],
        borderValue=0,
    )


def project_landmarks(landmarks: np.ndarray, roi: Roi, padding: np.ndarray) -> np.ndarray:
    """Landmarks from the model's crop to the image (letterbox removal, then projection).

    landmarks: ``(n, >=3)`` float32, columns x, y normalised to the tensor, z on the scale of
        x (raw z / tensor width); further columns (visibility, presence) are copied.
    roi: the region the crop was taken from (unpadded). padding: ``Crop.padding``.

    Returns the same shape, float32: x, y normalised to the image, z multiplied by the
    region's normalised width. The rotation is applied in normalised coordinates, as
    MediaPipe's ``LandmarkProjectionCalculator`` does; this is exact for regions square in
    pixels (the pose graph's are).
    """
    lm = np.asarray(landmarks, dtype=np.float32)
    left, top, right, bottom = (_f(p) for p in padding)
    lr, tb = left + right, top + bottom
    x = (lm[:, 0] - left) / (_f(1.0) - lr) - _f(0.5)
    y = (lm[:, 1] - top) / (_f(1.0) - tb) - _f(0.5)
    z = lm[:, 2] / (_f(1.0) - lr)
    rot = _f(roi.rotation)
    c, s = _cos(rot), _sin(rot)
    out = lm.copy()
    out[:, 0] = (c * x - s * y) * _f(roi.width) + _f(roi.x_center)
    out[:, 1] = (s * x + c * y) * _f(roi.height) + _f(roi.y_center)
    out[:, 2] = z * _f(roi.width)
    return out


def rotate_world(world: np.ndarray, rotation: float) -> np.ndarray:
    """World landmarks ``(n, 3)`` metres (x right, y down in the crop's frame) rotated about z by
    the region's ``rotation`` (radians) into the image's frame; float32, z unchanged."""
    w = np.asarray(world, dtype=np.float32)
    c, s = _cos(_f(rotation)), _sin(_f(rotation))
    out = w.copy()
    out[:, 0] = c * w[:, 0] - s * w[:, 1]
    out[:, 1] = s * w[:, 0] + c * w[:, 1]
    return out


def _tensor_to_image_norm(crop: Crop, image_size: tuple[int, int]) -> np.ndarray:
    """``GetRotatedSubRectToRectTransformMatrix``: ``(4, 4)`` float32 taking tensor coordinates
    normalised to [0, 1] to image coordinates normalised to [0, 1]."""
    cx, cy, a, b, rot = crop.rect
    c, d = _cos(rot), _sin(rot)
    g, h = _f(1.0) / _f(image_size[0]), _f(1.0) / _f(image_size[1])
    half = _f(0.5)
    m = np.zeros((4, 4), dtype=np.float32)
    m[0] = [a * c * g, -b * d * g, 0, (-half * a * c + half * b * d + cx) * g]
    m[1] = [a * d * h, b * c * h, 0, (-half * b * c - half * a * d + cy) * h]
    m[2] = [0, 0, a * g, 0]
    m[3] = [0, 0, 0, 1]
    return m


def warp_mask(mask: np.ndarray, crop: Crop, image_size: tuple[int, int], border: str = "zero") -> np.ndarray:
    """A tensor-space mask ``(H_t, W_t)`` float32 back onto the image: ``(H, W)`` float32,
    bilinear, outside the region ``border`` (``"zero"``: 0), in one ``cv2.warpAffine``.

    As MediaPipe: the inverse of the crop's normalised matrix, scaled to pixels of the mask
    and of the image (OpenCV-compatible, no half-pixel shift), used as the output-to-input map.
    """
    W, H = image_size
    th, tw = mask.shape[:2]
    inverse = np.linalg.inv(_tensor_to_image_norm(crop, image_size).astype(np.float64)).astype(np.float32)
    to_norm = np.diag(np.array([1.0 / W, 1.0 / H, 1.0, 1.0], dtype=np.float32))
    to_mask = np.diag(np.array([tw, th, 1.0, 1.0], dtype=np.float32))
    m = to_mask @ inverse @ to_norm
    affine = np.array([[m[0, 0], m[0, 1], m[0, 3]], [m[1, 0], m[1, 1], m[1, 3]]], dtype=np.float32)
    return cv2.warpAffine(
        np.asarray(mask, dtype=np.float32),
        affine,
        (W, H),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=_BORDERS[border],
        borderValue=0,
    )
