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

import csv
import os

import numpy as np

from ..landmarks import PoseLandmark as L
from ..record.video import check_writable
from ..types import PoseFrame
from .geometry import angle_between
from .solver import solve_torso

#: Column order of :func:`joint_angles` results and the angles CSV.
ANGLE_NAMES: tuple[str, ...] = (
    "left_elbow", "right_elbow", "left_knee", "right_knee", "left_hip", "right_hip",
    "left_shoulder", "right_shoulder", "spine_bend", "spine_twist",
)

#: Angle name -> (vertex, a, b): the angle at ``vertex`` between ``a`` and ``b``.
_THREE_POINT = {}
for _s in ("LEFT", "RIGHT"):
    _n = _s.lower()
    _THREE_POINT[f"{_n}_elbow"] = (L[f"{_s}_ELBOW"], L[f"{_s}_SHOULDER"], L[f"{_s}_WRIST"])
    _THREE_POINT[f"{_n}_knee"] = (L[f"{_s}_KNEE"], L[f"{_s}_HIP"], L[f"{_s}_ANKLE"])
_TORSO = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP)


def joint_angles(points: np.ndarray, visibility: np.ndarray | None = None, min_visibility: float = 0.5,
                 up: np.ndarray = np.array([0.0, 1.0, 0.0])) -> dict[str, float]:
    """Joint angles of one pose (module table).

    points: ``(33, 3)`` landmarks, metres, rig frame (+Y up). visibility: ``(33,)`` in [0, 1]
    (``None``: all visible). up: ``(3,)`` the vertical for ``spine_bend``.
    Returns ``{name: degrees}`` for every name in :data:`ANGLE_NAMES` (NaN when unseen).
    """
    p = np.asarray(points, dtype=np.float64)
    vis = np.ones(len(p)) if visibility is None else np.nan_to_num(np.asarray(visibility, dtype=np.float64), nan=0.0)

    def seen(*lms: int) -> bool:
        return bool(np.all(vis[list(lms)] >= min_visibility))

    out: dict[str, float] = {}
    for name, (v, a, b) in _THREE_POINT.items():
        out[name] = angle_between(p[a] - p[v], p[b] - p[v]) if seen(v, a, b) else float("nan")
    trunk = (p[L.LEFT_SHOULDER] + p[L.RIGHT_SHOULDER] - p[L.LEFT_HIP] - p[L.RIGHT_HIP]) / 2
    for side in ("LEFT", "RIGHT"):
        sh, el = L[f"{side}_SHOULDER"], L[f"{side}_ELBOW"]
        ok = seen(*_TORSO, el)
        out[f"{side.lower()}_shoulder"] = angle_between(p[el] - p[sh], -trunk) if ok else float("nan")
        hip, knee = L[f"{side}_HIP"], L[f"{side}_KNEE"]
        out[f"{side.lower()}_hip"] = angle_between(p[knee] - p[hip], trunk) if seen(*_TORSO, knee) else float("nan")
    if seen(*_TORSO):
        out["spine_bend"] = angle_between(trunk, up)
        _, twist = solve_torso(p, True)
        out["spine_twist"] = float(np.degrees(twist))
    else:
        out["spine_bend"] = out["spine_twist"] = float("nan")
    return {n: out[n] for n in ANGLE_NAMES}


ANGLES_CSV_COLUMNS: tuple[str, ...] = ("frame", "time_s", "person") + ANGLE_NAMES


class AnglesCsvWriter:
    """Sink writing one row per frame and person: ``frame,time_s,person,<ANGLE_NAMES>``
    (degrees, 3 decimals; NaN or no angles -> empty field). Flushed every frame."""

    def __init__(self, path: str | os.PathLike[str], force: bool = True) -> None:
        self.path = check_writable(path, force=force)
        self._file = open(self.path, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        self._csv.writerow(ANGLES_CSV_COLUMNS)
        self.rows = 0

    def write(self, pose_frame: PoseFrame, image: np.ndarray | None = None) -> None:
        for person in pose_frame.people:
            a = person.angles or {}
            vals = [a.get(n, float("nan")) for n in ANGLE_NAMES]
            self._csv.writerow([pose_frame.index, f"{pose_frame.timestamp:.6f}", person.id]
                               + ["" if not np.isfinite(v) else f"{v:.3f}" for v in vals])
            self.rows += 1
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
