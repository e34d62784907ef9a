"""Long-form landmark CSV: one row per frame, person and landmark.

Columns (exactly, in order): ``frame,time_s,person,landmark,name,x,y,z,visibility,presence,
world_x,world_y,world_z``. ``x, y`` are normalised to the input image ([0, 1], origin
top-left), ``z`` MediaPipe's relative depth, world in metres (MediaPipe world frame: origin
between the hips, x image-right, y down, z away from the camera). NaN is written as an empty
field. A frame with no person writes no rows, and so does a person with no body (every
landmark and world point NaN: on the single-person path, a frame where only a hand or a face
was seen). Rows are flushed every frame.

With hands or a face (``--hands`` / ``--face``) a second long-form CSV beside it,
``NAME.hands_face.csv`` (:func:`hands_face_path`, :class:`HandsFaceCsvWriter`), holds them; the
body CSV's columns and bytes do not change.

The file is written as ``NAME.partial.csv`` and renamed into place on close (see
:mod:`arpose.record.output`): a run that handed it no frame leaves no file.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..landmarks import IRIS_POINTS, NAMES, NUM_FACE_LANDMARKS, NUM_LANDMARKS, FaceLandmark, HandLandmark, Side
from ..types import Person, PoseFrame
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


#: Columns of the hands and face CSV (:class:`HandsFaceCsvWriter`), exactly, in order.
HANDS_FACE_COLUMNS = (
    "frame",
    "time_s",
    "person",
    "part",
    "index",
    "name",
    "x",
    "y",
    "z",
    "visibility",
    "world_x",
    "world_y",
    "world_z",
    "weight",
)
#: Values of the ``part`` column: the subject's hands (rows :class:`~arpose.landmarks.HandLandmark`),
#: the face mesh (rows 0..477) and the expression weights (rows
#: :class:`~arpose.retarget.face.Expression`).
HAND_PARTS = ("left_hand", "right_hand")
PARTS = HAND_PARTS + ("face", "expression")


def _face_names() -> tuple[str, ...]:
    """``(478,)`` names of the face points: :class:`FaceLandmark`'s (lower case) where it names
    one, ``left_iris_1`` .. ``right_iris_4`` for the iris rims, else empty."""
    names = [""] * NUM_FACE_LANDMARKS
    for lm in FaceLandmark:
        names[int(lm)] = lm.name.lower()
    for side in Side:
        for k, i in enumerate(IRIS_POINTS[side][1:], start=1):
            names[i] = f"{side.label}_iris_{k}"
    return tuple(names)


FACE_NAMES = _face_names()
HAND_NAMES: tuple[str, ...] = tuple(h.label for h in HandLandmark)


def hands_face_path(csv_path: str | os.PathLike[str]) -> Path:
    """Where the hands and face CSV goes beside a landmark CSV: ``NAME.hands_face.csv``."""
    p = Path(csv_path)
    return p.with_name(p.stem + ".hands_face.csv")


def _fmt(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.6g}"


def has_body(person: Person) -> bool:
    """False for a person with no body: every image landmark's x, y and every world point NaN
    (the single-person path's person 0 when only a hand or a face was seen)."""
    return not (np.isnan(person.landmarks[:, :2]).all() and np.isnan(person.world).all())


def hands_face_rows(frame_index: int, timestamp: float, person: Person) -> Iterator[tuple]:
    """One person's rows of the hands and face CSV (:data:`HANDS_FACE_COLUMNS`): each seen hand's
    21 landmarks (image x, y normalised, z relative depth, visibility, world metres about the
    hand's centre, image axes), the face's 478 points (no world), then the expression weights
    in [0, 1] (``weight``; the landmark columns empty). A hand or face not seen (all NaN) and a
    person without ``face_pose`` write no rows; NaN values are empty fields."""
    head = (frame_index, f"{timestamp:.6f}", person.id)
    if person.hands is not None:
        for side, part in enumerate(HAND_PARTS):
            hand = person.hands[side]
            if np.isnan(hand[:, :2]).all():
                continue
            world = person.hands_world[side] if person.hands_world is not None else np.full((len(hand), 3), np.nan)
            for i in range(len(hand)):
                yield (*head, part, i, HAND_NAMES[i], *(_fmt(v) for v in hand[i]), *(_fmt(v) for v in world[i]), "")
    if person.face is not None and not np.isnan(person.face[:, :2]).all():
        for i in range(len(person.face)):
            yield (*head, "face", i, FACE_NAMES[i], *(_fmt(v) for v in person.face[i]), "", "", "", "")
    if person.face_pose is not None:
        from ..retarget.face import Expression

        for e in Expression:
            w = float(person.face_pose.expressions[int(e)])
            yield (*head, "expression", int(e), e.label, "", "", "", "", "", "", "", _fmt(w))


class HandsFaceCsvWriter(CsvOutput):
    """The hands and face CSV (:data:`HANDS_FACE_COLUMNS`, rows :func:`hands_face_rows`); a
    pipeline sink like :class:`CsvWriter`, usually made by it. Raises :class:`OutputError`."""

    def __init__(self, path: str | os.PathLike[str], force: bool = True, inputs: Iterable[str | os.PathLike[str]] = ()):
        super().__init__(path, HANDS_FACE_COLUMNS, force=force, inputs=inputs)

    def write(self, pose_frame: PoseFrame, image: np.ndarray | None = None) -> None:
        f = pose_frame.frame
        self.write_frame(row for person in pose_frame.people for row in hands_face_rows(f.index, f.timestamp, person))


class CsvWriter(CsvOutput):
    """Appends :class:`PoseFrame` rows to a CSV file (see module doc); a pipeline sink.

    force, inputs: as :func:`arpose.record.check_writable`. hands_face: also write the hands
    and face CSV at :func:`hands_face_path` (:attr:`hands_face`, a :class:`HandsFaceCsvWriter`,
    checked, written and closed with this one). ``frames`` counts the frames written (with or
    without a person), ``rows`` the rows; ``close(partial=False)`` returns an
    :class:`~arpose.record.output.OutputResult` (the hands and face CSV's is
    ``hands_face.result``). Nothing is created before the first frame. Raises
    :class:`OutputError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        force: bool = True,
        inputs: Iterable[str | os.PathLike[str]] = (),
        hands_face: bool = False,
    ):
        super().__init__(path, CSV_COLUMNS, force=force, inputs=inputs)
        self.hands_face = HandsFaceCsvWriter(hands_face_path(path), force, inputs) if hands_face else None

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
            if has_body(person)
            for i in range(NUM_LANDMARKS)
        )
        if self.hands_face is not None:
            self.hands_face.write(pose_frame)

    def close(self, partial: bool = False):
        """Close both CSVs (see :meth:`CsvOutput.close`); returns the body CSV's result."""
        try:
            result = super().close(partial)
        finally:
            if self.hands_face is not None:
                self.hands_face.close(partial)
        return result


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
