"""2D drawing of skeletons and a heads-up display onto BGR frames (OpenCV, no window)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._cv import cv2
from ..landmarks import CONNECTIONS, VISIBILITY
from ..types import Person, PoseFrame


@dataclass(frozen=True)
class DrawConfig:
    """Look of the skeleton overlay. Sizes are in pixels at 640 px image width and scale
    with the image. ``min_visibility``: joints below it are drawn hollow and their bones thin."""

    joint_radius: float = 4.0
    bone_thickness: float = 2.0
    min_visibility: float = 0.5
    show_hud: bool = True


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
