"""Long-form landmark CSV: one row per frame, person and landmark.

Columns (exactly, in order): ``frame,time_s,person,landmark,name,x,y,z,visibility,presence,
world_x,world_y,world_z``. ``x, y`` are normalised to the input image ([0, 1], origin
top-left), ``z`` MediaPipe's relative depth, world in metres (MediaPipe world frame: origin
between the hips, x image-right, y down, z away from the camera). NaN is written as an empty
field. A frame with no person writes no rows. Rows are flushed every frame.

The file is written as ``NAME.partial.csv`` and renamed into place on close (see
:mod:`arpose.record.output`): a run that handed it no frame leaves no file.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from ..landmarks import NAMES, NUM_LANDMARKS
from ..types import PoseFrame
from .output import CsvOutput

CSV_COLUMNS = (
    "frame",
    "time_s",
    "person",
    "landmark",
    "name",
    "x",
    "y",
    "z",
    "visibility",
    "presence",
    "world_x",
    "world_y",
    "world_z",
)


def _fmt(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.6g}"


class CsvWriter(CsvOutput):
    """Appends :class:`PoseFrame` rows to a CSV file (see module doc); a pipeline sink.

    force, inputs: as :func:`arpose.record.check_writable`. ``frames`` counts the frames
    written (with or without a person), ``rows`` the rows; ``close(partial=False)`` returns
    an :class:`~arpose.record.output.OutputResult`. Nothing is created before the first
    frame. Raises :class:`OutputError`.
    """

    def __init__(self, path: str | os.PathLike[str], force: bool = True, inputs: Iterable[str | os.PathLike[str]] = ()):
        super().__init__(path, CSV_COLUMNS, force=force, inputs=inputs)

    def write(self, pose_frame: PoseFrame, image: np.ndarray | None = None) -> None:
        """Append the rows of one frame result (``image`` is ignored; sink signature)."""
        f = pose_frame.frame
        self.write_frame(
            (
                f.index,
                f"{f.timestamp:.6f}",
                person.id,
                i,
                NAMES[i],
                *(_fmt(v) for v in person.landmarks[i]),
                *(_fmt(v) for v in person.world[i]),
            )
            for person in pose_frame.people
            for i in range(NUM_LANDMARKS)
        )


def read_landmark_csv(path: str | os.PathLike[str]) -> dict[tuple[int, int], dict[str, np.ndarray | float]]:
    """Read a landmark CSV back. Returns ``{(frame, person): {"time_s", "landmarks" (33, 5),
    "world" (33, 3)}}`` with NaN for empty fields."""
    out: dict[tuple[int, int], dict[str, np.ndarray | float]] = {}

    def num(s: str) -> float:
        return float(s) if s != "" else np.nan

    with open(Path(path), newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            key = (int(row["frame"]), int(row["person"]))
            rec = out.setdefault(
                key,
                {
                    "time_s": float(row["time_s"]),
                    "landmarks": np.full((NUM_LANDMARKS, 5), np.nan, np.float32),
                    "world": np.full((NUM_LANDMARKS, 3), np.nan, np.float32),
                },
            )
            i = int(row["landmark"])
            rec["landmarks"][i] = [num(row[c]) for c in ("x", "y", "z", "visibility", "presence")]
            rec["world"][i] = [num(row[c]) for c in ("world_x", "world_y", "world_z")]
    return out
