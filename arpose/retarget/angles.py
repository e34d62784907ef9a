"""Joint angles in degrees, the basis for quantifying exercise, and their CSV writer.

All angles come from the landmarks in the rig frame (:func:`arpose.retarget.solver.mp_world_to_rig`
of the world landmarks: +Y is the camera's up). Left/right are the **subject's** sides. An angle
is NaN when a landmark it uses has visibility below the threshold.

==================  ===========================================================  ==========================
name                definition                                                   reading
==================  ===========================================================  ==========================
left/right_elbow    angle at the elbow between shoulder and wrist                180 straight, 90 right angle
left/right_knee     angle at the knee between hip and ankle                      180 straight, 90 chair sit
left/right_hip      thigh (hip -> knee) against the trunk's upward direction       180 standing, 90 seated
                    (hip centre -> shoulder centre)
left/right_shoulder upper arm (shoulder -> elbow) against the trunk's downward    0 arm down, 90 T-pose, 180 overhead
                    direction (shoulder centre -> hip centre)
spine_bend          trunk (hip centre -> shoulder centre) from the vertical (+Y)   0 upright, 90 horizontal
spine_twist         shoulder line turned against the hip line about the trunk,   0 square; + shoulders turned
                    signed                                                       to the subject's left
==================  ===========================================================  ==========================

``spine_bend`` uses the camera's vertical: tilt the camera and the reading shifts by the tilt.
"""

from __future__ import annotations

import math
import os
from typing import Iterable

import numpy as np

from ..landmarks import PoseLandmark as L
from ..record.output import CsvOutput
from ..types import PoseFrame
from .geometry import EPS, cross, dots, units
from .solver import landmark_combinations, visibility_or_zero

#: Column order of :func:`joint_angles` results and the angles CSV.
ANGLE_NAMES: tuple[str, ...] = (
    "left_elbow",
    "right_elbow",
    "left_knee",
    "right_knee",
    "left_hip",
    "right_hip",
    "left_shoulder",
    "right_shoulder",
    "spine_bend",
    "spine_twist",
)

_EYE = np.eye(33)
_TORSO = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP)
#: Trunk direction (hip centre -> shoulder centre) as landmark weights.
_TRUNK = (_EYE[L.LEFT_SHOULDER] + _EYE[L.RIGHT_SHOULDER] - _EYE[L.LEFT_HIP] - _EYE[L.RIGHT_HIP]) / 2


def _angle_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the first 9 names of :data:`ANGLE_NAMES`: landmark weights of the two vectors the
    angle is measured between (``(9, 33)`` each; spine_bend's second vector, the vertical,
    is added per call) and ``(9, 5)`` the landmarks that must be seen (padded by repeats)."""
    rows: dict[str, tuple[np.ndarray, np.ndarray, tuple[int, ...]]] = {}
    for s in ("LEFT", "RIGHT"):
        n = s.lower()
        for joint, (v, a, b) in (("elbow", ("ELBOW", "SHOULDER", "WRIST")), ("knee", ("KNEE", "HIP", "ANKLE"))):
            v, a, b = L[f"{s}_{v}"], L[f"{s}_{a}"], L[f"{s}_{b}"]
            rows[f"{n}_{joint}"] = (_EYE[a] - _EYE[v], _EYE[b] - _EYE[v], (v, a, b))
        sh, el, hip, knee = (L[f"{s}_{x}"] for x in ("SHOULDER", "ELBOW", "HIP", "KNEE"))
        rows[f"{n}_shoulder"] = (_EYE[el] - _EYE[sh], -_TRUNK, _TORSO + (el,))
        rows[f"{n}_hip"] = (_EYE[knee] - _EYE[hip], _TRUNK, _TORSO + (knee,))
    rows["spine_bend"] = (_TRUNK, np.zeros(33), _TORSO)
    names = ANGLE_NAMES[:9]
    seen = [tuple(int(i) for i in rows[n][2]) for n in names]
    return (
        np.array([rows[n][0] for n in names]),
        np.array([rows[n][1] for n in names]),
        np.array([t + (t[0],) * (5 - len(t)) for t in seen]),
    )


_FIRST, _SECOND, _SEEN = _angle_table()
#: Every vector of a pose as landmark weights: the first and second vectors of the angles,
#: then the hip line and the shoulder line (right -> left) for the twist.
_VECTORS = np.concatenate(
    [_FIRST, _SECOND, [_EYE[L.LEFT_HIP] - _EYE[L.RIGHT_HIP], _EYE[L.LEFT_SHOULDER] - _EYE[L.RIGHT_SHOULDER]]]
)


def joint_angles(
    points: np.ndarray,
    visibility: np.ndarray | None = None,
    min_visibility: float = 0.5,
    up: np.ndarray = np.array([0.0, 1.0, 0.0]),
) -> dict[str, float]:
    """Joint angles of one pose (module table).

    points: ``(33, 3)`` landmarks, metres, rig frame (+Y up). visibility: ``(33,)`` in [0, 1]
    (``None``: all visible). up: ``(3,)`` the vertical for ``spine_bend``.
    Returns ``{name: degrees}`` for every name in :data:`ANGLE_NAMES` (NaN when unseen).
    """
    p = np.asarray(points, dtype=np.float64)
    vis = np.ones(len(p)) if visibility is None else visibility_or_zero(visibility)
    v = landmark_combinations(_VECTORS, p)
    v[17] = up  # spine_bend: trunk against the vertical
    u = units(v[:18])
    first, second = u[:9], u[9:]
    c = cross(first, second)
    seen = vis[_SEEN].min(axis=1) >= min_visibility
    deg = np.where(seen, np.degrees(np.arctan2(np.sqrt(dots(c, c)), dots(first, second))), np.nan)
    twist = math.degrees(_twist(first[8], v[18:])) if seen[8] else float("nan")
    return dict(zip(ANGLE_NAMES, deg.tolist() + [twist]))


def _twist(up: np.ndarray, lines: np.ndarray) -> float:
    """Hip-to-shoulder twist (radians) about the unit trunk direction ``up`` ``(3,)`` between
    ``lines`` ``(2, 3)`` = (hip line, shoulder line), both right -> left, positive turning the
    shoulders towards the subject's left; 0 if degenerate. The twist of
    :func:`~arpose.retarget.solver.solve_torso` in closed form: its frames' first columns are the
    lines made perpendicular to ``up`` (``s_h``, ``s_u``), their third columns ``-(up x s)``, so
    ``atan2(-s_h . (up x s_u), s_h . s_u)`` (plain floats: six 3-vectors)."""
    ux, uy, uz = up.tolist()
    perp = []
    for x, y, z in lines.tolist():
        k = x * ux + y * uy + z * uz
        x, y, z = x - k * ux, y - k * uy, z - k * uz
        n = math.sqrt(x * x + y * y + z * z)
        if not n >= EPS:  # parallel to the trunk, or NaN
            return 0.0
        perp.append((x / n, y / n, z / n))
    (hx, hy, hz), (sx, sy, sz) = perp
    cos = hx * sx + hy * sy + hz * sz
    sin = -(hx * (uy * sz - uz * sy) + hy * (uz * sx - ux * sz) + hz * (ux * sy - uy * sx))
    return math.atan2(sin, cos) if math.isfinite(cos) and math.isfinite(sin) else 0.0


ANGLES_CSV_COLUMNS: tuple[str, ...] = ("frame", "time_s", "person") + ANGLE_NAMES


class AnglesCsvWriter(CsvOutput):
    """Sink writing one row per frame and person: ``frame,time_s,person,<ANGLE_NAMES>``
    (degrees, 3 decimals; NaN or no angles -> empty field). Flushed every frame; written as
    ``NAME.partial.csv`` and renamed into place on close, no file if no frame was written
    (:class:`arpose.record.output.CsvOutput`). force, inputs: as
    :func:`arpose.record.check_writable`. Raises :class:`arpose.errors.OutputError`."""

    def __init__(
        self, path: str | os.PathLike[str], force: bool = True, inputs: Iterable[str | os.PathLike[str]] = ()
    ) -> None:
        super().__init__(path, ANGLES_CSV_COLUMNS, force=force, inputs=inputs)

    def write(self, pose_frame: PoseFrame, image: np.ndarray | None = None) -> None:
        self.write_frame(
            [pose_frame.index, f"{pose_frame.timestamp:.6f}", person.id]
            + [
                "" if not np.isfinite(v) else f"{v:.3f}"
                for v in ((person.angles or {}).get(n, math.nan) for n in ANGLE_NAMES)
            ]
            for person in pose_frame.people
        )
