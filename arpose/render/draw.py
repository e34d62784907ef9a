"""2D drawing of skeletons and a heads-up display onto BGR frames (OpenCV, no window).

A person's body is drawn as BlazePose's 33 landmarks and their connections; with ``--hands`` /
``--face`` their hands (``Person.hands``: 21 points each, :data:`arpose.landmarks.HAND_CONNECTIONS`,
thin lines, points coloured by the hand model's confidence like the body's joints) and a light
outline of the face mesh (``Person.face``: :data:`FACE_OUTLINES`, the face oval, eyes, brows,
lips and irises: 150 of the 478 points) are drawn too, unless :class:`DrawConfig` turns them off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._cv import cv2
from ..landmarks import CONNECTIONS, HAND_CONNECTIONS, VISIBILITY
from ..types import Person, PoseFrame


@dataclass(frozen=True)
class DrawConfig:
    """Look of the skeleton overlay. Sizes are in pixels at 640 px image width and scale
    with the image. ``min_visibility``: joints below it are drawn hollow and their bones thin.
    hands / face: draw ``Person.hands`` / ``Person.face`` when present (:func:`draw_hands`,
    :func:`draw_face`); hand_thickness, hand_point_radius, face_thickness: their sizes (a
    radius of 0 draws no hand points)."""

    joint_radius: float = 4.0
    bone_thickness: float = 2.0
    min_visibility: float = 0.5
    show_hud: bool = True
    hands: bool = True
    face: bool = True
    hand_thickness: float = 1.0
    hand_point_radius: float = 2.0
    face_thickness: float = 1.0


def visibility_color(v: float) -> tuple[int, int, int]:
    """BGR colour for a visibility in [0, 1]: red (0) through yellow (0.5) to green (1).
    NaN is grey."""
    if not np.isfinite(v):
        return (128, 128, 128)
    v = float(np.clip(v, 0.0, 1.0))
    if v < 0.5:
        return (0, int(255 * (v / 0.5)), 255)
    return (0, 255, int(255 * (1.0 - (v - 0.5) / 0.5)))


_PERSON_COLORS = ((255, 200, 0), (255, 0, 200), (0, 200, 255), (200, 255, 0), (120, 120, 255), (255, 120, 120))


def draw_skeleton(image: np.ndarray, person: Person, config: DrawConfig = DrawConfig()) -> np.ndarray:
    """Draw one person's skeleton in place on ``image`` (BGR uint8, ``(H, W, 3)``) and return it.

    Bones take the person's colour (by id); joints are coloured by visibility
    (:func:`visibility_color`). Landmarks with NaN coordinates are skipped.
    """
    h, w = image.shape[:2]
    scale = max(w, h) / 640.0
    if config.face and person.face is not None:
        draw_face(image, person.face, config)
    if config.hands and person.hands is not None:
        draw_hands(image, person.hands, config)
    px = person.pixels(w, h)
    vis = person.landmarks[:, VISIBILITY]
    ok = np.isfinite(px).all(axis=1)
    bone_color = _PERSON_COLORS[person.id % len(_PERSON_COLORS)]
    thick = max(1, int(round(config.bone_thickness * scale)))
    for a, b in CONNECTIONS:
        if not (ok[a] and ok[b]):
            continue
        faint = min(vis[a], vis[b]) < config.min_visibility
        pa = tuple(int(round(c)) for c in px[a])
        pb = tuple(int(round(c)) for c in px[b])
        cv2.line(image, pa, pb, bone_color, 1 if faint else thick, cv2.LINE_AA)
    radius = max(2, int(round(config.joint_radius * scale)))
    for i in np.flatnonzero(ok):
        c = tuple(int(round(v)) for v in px[i])
        filled = vis[i] >= config.min_visibility
        cv2.circle(image, c, radius, visibility_color(float(vis[i])), -1 if filled else max(1, thick // 2), cv2.LINE_AA)
    return image


#: Colour of the hand lines (BGR), per :class:`arpose.landmarks.Side`: the subject's left, right.
HAND_COLORS = ((255, 160, 60), (60, 160, 255))
#: Colour of the face outline (BGR): light grey; the irises are cyan.
FACE_COLOR = (225, 225, 225)
IRIS_COLOR = (255, 255, 0)

#: A light subset of the 478-point face mesh for drawing, as polylines of mesh indices
#: (MediaPipe's FACEMESH_FACE_OVAL, _LEFT_EYE, _RIGHT_EYE, _LEFT_EYEBROW, _RIGHT_EYEBROW and
#: _LIPS edges chained; left/right are the subject's). The irises are :data:`IRIS_OUTLINES`.
FACE_OUTLINES: tuple[tuple[int, ...], ...] = (
    # face oval, closed
    (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176,
     149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109, 10),
    # the subject's left eye: upper and lower lid, outer (263) to inner (362) corner
    (263, 466, 388, 387, 386, 385, 384, 398, 362),
    (263, 249, 390, 373, 374, 380, 381, 382, 362),
    # the subject's right eye, outer (33) to inner (133)
    (33, 246, 161, 160, 159, 158, 157, 173, 133),
    (33, 7, 163, 144, 145, 153, 154, 155, 133),
    # brows (two strokes each)
    (276, 283, 282, 295, 285),
    (300, 293, 334, 296, 336),
    (46, 53, 52, 65, 55),
    (70, 63, 105, 66, 107),
    # lips: outer upper, outer lower, inner upper, inner lower (mouth corners 61 / 291, 78 / 308)
    (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291),
    (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291),
    (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
    (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),
)  # fmt: skip
#: The irises' rims (closed loops; centres 473 and 468 are not drawn).
IRIS_OUTLINES: tuple[tuple[int, ...], ...] = ((474, 475, 476, 477, 474), (469, 470, 471, 472, 469))


def _pixels(points: np.ndarray, w: int, h: int) -> np.ndarray:
    """``(N, 2)`` float pixels of ``(N, >=2)`` normalised points (NaN kept)."""
    return np.asarray(points[:, :2], dtype=np.float64) * (w, h)


def draw_hands(image: np.ndarray, hands: np.ndarray, config: DrawConfig = DrawConfig()) -> np.ndarray:
    """Draw a person's hands in place on ``image`` (BGR uint8 ``(H, W, 3)``) and return it.

    hands: ``(2, 21, >=4)`` ``Person.hands``: x, y normalised to the image, column 3 the hand
    model's confidence; first axis the subject's left, right (:class:`arpose.landmarks.Side`).
    Lines (:data:`arpose.landmarks.HAND_CONNECTIONS`, :data:`HAND_COLORS` by side) between
    finite points, ``config.hand_thickness`` px at 640 px width (1 px lines below
    ``config.min_visibility``); points coloured by confidence (:func:`visibility_color`),
    filled when at least ``config.min_visibility``, hollow below. NaN points are skipped.
    """
    h, w = image.shape[:2]
    scale = max(w, h) / 640.0
    thick = max(1, int(round(config.hand_thickness * scale)))
    radius = int(round(config.hand_point_radius * scale)) if config.hand_point_radius > 0 else 0
    for side in range(min(2, len(hands))):
        pts = np.asarray(hands[side], dtype=np.float64)
        px = _pixels(pts, w, h)
        ok = np.isfinite(px).all(axis=1)
        if not ok.any():
            continue
        vis = pts[:, VISIBILITY] if pts.shape[1] > VISIBILITY else np.ones(len(pts))
        ipx = np.where(ok[:, None], px, 0.0).round().astype(int)
        for a, b in HAND_CONNECTIONS:
            if ok[a] and ok[b]:
                faint = min(vis[a], vis[b]) < config.min_visibility
                cv2.line(image, tuple(ipx[a]), tuple(ipx[b]), HAND_COLORS[side], 1 if faint else thick, cv2.LINE_AA)
        if radius:
            for i in np.flatnonzero(ok):
                filled = vis[i] >= config.min_visibility
                cv2.circle(
                    image, tuple(ipx[i]), radius, visibility_color(float(vis[i])), -1 if filled else 1, cv2.LINE_AA
                )
    return image


def draw_face(image: np.ndarray, face: np.ndarray, config: DrawConfig = DrawConfig()) -> np.ndarray:
    """Draw a light outline of a face mesh in place on ``image`` (BGR uint8 ``(H, W, 3)``) and
    return it: :data:`FACE_OUTLINES` in :data:`FACE_COLOR` and the irises' rims
    (:data:`IRIS_OUTLINES`) in :data:`IRIS_COLOR`, ``config.face_thickness`` px at 640 px width.

    face: ``(478, >=2)`` ``Person.face``, x, y normalised to the image. NaN (not seen): nothing
    is drawn; a polyline is cut where a point is NaN.
    """
    pts = np.asarray(face, dtype=np.float64)
    if pts.ndim != 2 or len(pts) < 478 or not np.isfinite(pts[:, :2]).any():
        return image
    h, w = image.shape[:2]
    thick = max(1, int(round(config.face_thickness * max(w, h) / 640.0)))
    px = _pixels(pts, w, h)
    ok = np.isfinite(px).all(axis=1)
    for lines, colour in ((FACE_OUTLINES, FACE_COLOR), (IRIS_OUTLINES, IRIS_COLOR)):
        polys = []
        for line in lines:
            run: list = []
            for i in (*line, -1):
                if i >= 0 and ok[i]:
                    run.append(px[i])
                    continue
                if len(run) > 1:
                    polys.append(np.round(np.array(run)).astype(np.int32))
                run = []
        if polys:
            cv2.polylines(image, polys, False, colour, thick, cv2.LINE_AA)
    return image


#: Where :func:`draw_hud` may put its text.
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


def _hud_metrics(shape: tuple[int, ...]) -> tuple[float, int]:
    h, w = shape[:2]
    scale = max(0.4, max(w, h) / 1280.0)
    return scale, int(22 * scale * 1.6)


def hud_size(shape: tuple[int, ...], lines: list[str]) -> tuple[int, int]:
    """``(width, height)`` in pixels of the block :func:`draw_hud` draws for ``lines`` on an
    image of ``shape`` ``(H, W, ...)``."""
    scale, line_h = _hud_metrics(shape)
    thick = max(2, int(3 * scale))
    width = max((cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)[0][0] for t in lines), default=0)
    return int(width + 16 * scale), int(line_h * len(lines) + 0.6 * line_h)


def least_covered_corner(
    shape: tuple[int, ...], block: tuple[int, int], boxes: list[tuple[float, float, float, float]]
) -> str:
    """The corner of an image of ``shape`` ``(H, W, ...)`` where a ``block`` ``(width,
    height)`` pixels overlaps the least area of ``boxes`` (``(x0, y0, x1, y1)`` pixels, image
    frame, e.g. people's bounding boxes); ties go to the first of :data:`CORNERS`."""
    h, w = shape[:2]
    bw, bh = block

    def covered(corner: str) -> float:
        x0 = 0 if corner.endswith("left") else w - bw
        y0 = 0 if corner.startswith("top") else h - bh
        area = 0.0
        for bx0, by0, bx1, by1 in boxes:
            dx = min(x0 + bw, bx1) - max(x0, bx0)
            dy = min(y0 + bh, by1) - max(y0, by0)
            area += max(0.0, dx) * max(0.0, dy)
        return area

    return min(CORNERS, key=covered)


def draw_hud(image: np.ndarray, lines: list[str], corner: str = "top-left") -> np.ndarray:
    """Draw text lines in a ``corner`` of ``image`` (one of :data:`CORNERS`; in place, BGR),
    white on a dark outline."""
    h, w = image.shape[:2]
    scale, line_h = _hud_metrics(image.shape)
    bw, bh = hud_size(image.shape, lines)
    x = int(8 * scale) if corner.endswith("left") else max(0, w - bw + int(8 * scale))
    y0 = 0 if corner.startswith("top") else max(0, h - bh)
    for i, text in enumerate(lines):
        org = (x, y0 + int((i + 1) * line_h))
        cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), max(2, int(3 * scale)), cv2.LINE_AA)
        cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, int(scale)), cv2.LINE_AA)
    return image


def draw_pose_frame(
    image: np.ndarray, pose_frame: PoseFrame, fps: float | None = None, config: DrawConfig = DrawConfig()
) -> np.ndarray:
    """Draw every person of ``pose_frame`` and the HUD (person count, confidence, fps) onto
    ``image`` in place (BGR) and return it."""
    for person in pose_frame.people:
        draw_skeleton(image, person, config)
    if config.show_hud:
        lines = []
        if pose_frame.people:
            conf = ", ".join(f"#{p.id} {p.score:.2f}" for p in pose_frame.people)
            lines.append(f"pose conf {conf}")
        else:
            lines.append("no person")
        if fps is not None and np.isfinite(fps):
            lines.append(f"{fps:5.1f} fps")
        draw_hud(image, lines)
    return image
