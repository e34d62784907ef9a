"""Motion-capture takes: a crash-safe, documented file holding every frame and person.

File format (version 1; full description in ``docs/takes.md``)
--------------------------------------------------------------
UTF-8 text, one record per line::

    ARPOSE-TAKE 1
    <crc32> {"type": "header", ...}
    <crc32> {"type": "frame", "index": 0, "t": 0.0, "people": [...]}
    ...
    <crc32> {"type": "end", "frames": N}

* Line 1 is the magic word and the format's major version.
* Every other line is the CRC-32 of the JSON text (8 lower-case hex digits, ``zlib.crc32``
  of its UTF-8 bytes), one space, and one JSON object. No pickle anywhere.
* Arrays are ``{"dtype": "<f4", "shape": [33, 5], "b64": "..."}``: the raw little-endian
  bytes in base64, so NaN survives exactly. Scalars that are NaN are ``null``. Optional
  values that are not available (``raw_landmarks`` before smoothing, ``body`` / ``angles``
  without retargeting, ``hands`` ... ``face_pose`` without ``--hands`` / ``--face``) are absent
  keys, never zeros.
* With ``--hands`` / ``--face`` a person also holds ``hands``, ``hands_world``, ``face`` and
  their ``raw_*`` arrays (float32, the data contract's shapes, NaN where not seen), ``fingers``
  (every :class:`~arpose.retarget.fingers.HandsPose` field, each hand's ``HandPose`` or
  ``null``) and ``face_pose`` (every :class:`~arpose.retarget.face.FacePose` field and its
  ``FaceFeatures``). These keys were added without a version change: a reader that does not
  know them (arpose before issue 17) ignores them and reads the body as before.
* Records are flushed to the operating system as they are written and ``fsync``-ed (on a
  background thread) every ``sync_interval`` seconds (0.5 s by default), so ``kill -9`` loses
  at most the record being written and a power cut at most the last ``sync_interval``. A clean close
  writes the ``end`` record; a take without it (or with a torn last line) opens with a
  :class:`TruncatedTakeWarning` and every complete frame.
* While recording, the take is ``NAME.partial.take`` beside its final name
  (:func:`arpose.record.output.partial_path`); a clean close renames it to ``NAME.take``. A
  take that ends with no frame leaves no file. After ``kill -9`` the ``.partial.take`` file
  stays: open it as it is (``read_take("NAME.partial.take")``, ``arpose export
  NAME.partial.take``), or rename it.
* Readers accept the versions in :data:`READ_VERSIONS` (magic line and header ``version``);
  any other is an :class:`InputError` naming both.

Frames of reference are the data contract's (:mod:`arpose.types`): image landmarks
normalised, world landmarks in MediaPipe's world frame (metres), ``body`` in the
camera-attached rig frame of :class:`arpose.retarget.BodyPose`, quaternions ``(x, y, z, w)``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import itertools
import json
import math
import os
import threading
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from ..errors import InputError, OutputError
from ..landmarks import HAND_COLUMNS, NAMES, NUM_FACE_LANDMARKS, NUM_HAND_LANDMARKS, Side
from ..retarget.body import BodyPose
from ..retarget.face import NUM_EXPRESSIONS, FaceFeatures, FacePose
from ..retarget.fingers import HandPose, HandsPose
from ..skeleton import BONE_NAMES, END_OFFSETS, NUM_BONES, NUM_FINGER_BONES, PARENTS, REST_OFFSETS
from ..types import Camera, Frame, Person, PoseFrame
from .bvh import read_input_bytes
from .output import OutputResult, PendingOutput, partial_path

MAGIC = "ARPOSE-TAKE"
FORMAT_VERSION = 1
#: Format versions this arpose reads.
READ_VERSIONS = (1,)
TAKE_EXTENSION = ".take"
_PERSON_ARRAYS = (
    "landmarks",
    "world",
    "raw_landmarks",
    "raw_world",
    "hands",
    "hands_world",
    "face",
    "raw_hands",
    "raw_hands_world",
    "raw_face",
)
_HAND, _FACE = (2, NUM_HAND_LANDMARKS, HAND_COLUMNS), (NUM_FACE_LANDMARKS, HAND_COLUMNS)
_HAND_WORLD = (2, NUM_HAND_LANDMARKS, 3)
#: Shapes the reader requires (the data contract's), so a take that opens can be used.
_PERSON_SHAPES = {
    "landmarks": (33, 5),
    "world": (33, 3),
    "raw_landmarks": (33, 5),
    "raw_world": (33, 3),
    "hands": _HAND,
    "hands_world": _HAND_WORLD,
    "face": _FACE,
    "raw_hands": _HAND,
    "raw_hands_world": _HAND_WORLD,
    "raw_face": _FACE,
}
#: Shapes of the arrays of ``fingers`` (:class:`HandsPose`), its per-hand :class:`HandPose`,
#: ``face_pose`` (:class:`FacePose`) and its :class:`FaceFeatures`.
_FINGERS_SHAPES = {"local_rotations": (NUM_FINGER_BONES, 4), "seen": (2,), "hand_rotations": (2, 4)}
_HAND_POSE_SHAPES = {
    "rotation": (4,),
    "local_rotations": (NUM_FINGER_BONES // 2, 4),
    "flexion": (5, 3),
    "abduction": (5,),
    "curl": (5,),
}
_FACE_POSE_SHAPES = {"head_rotation": (4,), "eye_rotations": (2, 4), "expressions": (NUM_EXPRESSIONS,)}
_FEATURE_SHAPES = {"ear": (2,), "brow": (2,), "gaze": (2, 2)}
_BODY_SHAPES = {
    "local_rotations": (NUM_BONES, 4),
    "root_position": (3,),
    "positions": (NUM_BONES, 3),
    "offsets": (NUM_BONES, 3),
    "bone_confidence": (NUM_BONES,),
    "foot_contact": (2,),
    "rotations": (NUM_BONES, 4),
}
#: The largest image side a take header may give (pixels): replay allocates images this size.
_MAX_SIDE = 16384
#: What decoding a damaged record can raise (json, base64, numpy, int/float conversions,
#: nesting too deep for the JSON parser); :func:`read_take` turns each into an InputError.
_DECODE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, OverflowError, RecursionError)


class TruncatedTakeWarning(UserWarning):
    """A take ended without its end record (the recorder was killed or crashed) or with a
    torn last line: every complete frame was read."""


# ----------------------------------------------------------------------------- encoding


def encode_array(a: np.ndarray) -> dict:
    """An array as ``{"dtype", "shape", "b64"}`` (little-endian raw bytes, base64)."""
    arr = np.asarray(a)
    if arr.dtype == object:
        raise TypeError("object arrays cannot be stored in a take")
    le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return {
        "dtype": le.dtype.str,
        "shape": list(arr.shape),
        "b64": base64.b64encode(np.ascontiguousarray(le).tobytes()).decode("ascii"),
    }


def decode_array(d: Mapping[str, Any], shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Inverse of :func:`encode_array` (native byte order). ``shape``: the shape required.
    Raises ``ValueError`` (or ``TypeError`` / ``KeyError``) if malformed."""
    if not isinstance(d, Mapping) or not isinstance(d["dtype"], str) or not isinstance(d["b64"], str):
        raise ValueError("an array is not {dtype, shape, b64}")
    dtype = np.dtype(d["dtype"])
    if dtype.kind not in "fiub":
        raise ValueError(f"unsupported dtype {d['dtype']!r}")
    raw = base64.b64decode(d["b64"], validate=True)
    got = tuple(int(s) for s in d["shape"])
    if shape is not None and got != shape:
        raise ValueError(f"array of shape {got}, expected {shape}")
    arr = np.frombuffer(raw, dtype=dtype).reshape(got)
    return arr.astype(dtype.newbyteorder("="))


def _num(v: Any) -> Any:
    """A JSON scalar: NaN / inf become ``null``; numpy scalars become Python ones."""
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    return v


def _value(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return encode_array(v)
    return _num(v)


def encode_body(body: BodyPose) -> dict:
    """Every :class:`BodyPose` field (arrays encoded, NaN scalars ``null``)."""
    return {f.name: _value(getattr(body, f.name)) for f in dataclasses.fields(body)}


def decode_body(d: Mapping[str, Any]) -> BodyPose:
    """A :class:`BodyPose` from :func:`encode_body` output; unknown keys (newer writers)
    are ignored, and ``null`` scalars read back as NaN."""
    known = {f.name: f for f in dataclasses.fields(BodyPose)}
    kwargs: dict[str, Any] = {}
    for k, v in d.items():
        if k not in known:
            continue
        if k in _BODY_SHAPES:
            kwargs[k] = None if v is None and k == "rotations" else decode_array(v, _BODY_SHAPES[k])
        elif isinstance(v, bool):  # ``settled`` (read as a float 1.0 / 0.0 before issue 17)
            kwargs[k] = v
        else:
            kwargs[k] = float("nan") if v is None else float(v)
    return BodyPose(**kwargs)


def _encode_fields(obj: Any, nested: Mapping[str, Any] = {}) -> dict:
    """Every dataclass field of ``obj`` (arrays encoded, NaN scalars ``null``); ``nested``
    maps a field name to the encoder of its value."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = nested[f.name](v) if f.name in nested else _value(v)
    return out


def _decode_fields(cls: type, d: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]], nested: Mapping = {}) -> Any:
    """``cls`` from :func:`_encode_fields` output: arrays of ``shapes`` decoded, ``nested``
    fields by their decoder, ``bool`` fields as bools, other ``null`` scalars as NaN. Unknown
    keys (newer writers) are ignored; a missing field keeps its default (else ``KeyError``)."""
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in d:
            continue
        v = d[f.name]
        if f.name in nested:
            kwargs[f.name] = nested[f.name](v)
        elif f.name in shapes:
            kwargs[f.name] = decode_array(v, shapes[f.name])
        elif f.type in ("bool", bool):
            if not isinstance(v, bool):
                raise ValueError(f"{f.name} {v!r} is not true or false")
            kwargs[f.name] = v
        else:
            kwargs[f.name] = float("nan") if v is None else float(v)
    return cls(**kwargs)


def encode_fingers(fingers: HandsPose) -> dict:
    """Every :class:`HandsPose` field, each hand's :class:`HandPose` (``null`` for a hand not
    seen) with its side as 0 / 1."""

    def hand(h: HandPose | None) -> dict | None:
        return None if h is None else _encode_fields(h, {"side": int})

    return _encode_fields(fingers, {"hands": lambda hs: [hand(h) for h in hs]})


def decode_fingers(d: Mapping[str, Any]) -> HandsPose:
    """Inverse of :func:`encode_fingers`. Raises ``ValueError`` (or ``TypeError`` /
    ``KeyError``) if malformed."""

    def hand(h: Mapping[str, Any] | None) -> HandPose | None:
        return None if h is None else _decode_fields(HandPose, h, _HAND_POSE_SHAPES, {"side": Side})

    def hands(hs: list) -> tuple:
        if not (isinstance(hs, list) and len(hs) == 2):
            raise ValueError("fingers.hands must list two hands")
        return (hand(hs[0]), hand(hs[1]))

    return _decode_fields(HandsPose, d, _FINGERS_SHAPES, {"hands": hands})


def encode_face_pose(face: FacePose) -> dict:
    """Every :class:`FacePose` field, its :class:`FaceFeatures` nested."""
    return _encode_fields(face, {"features": _encode_fields})


def decode_face_pose(d: Mapping[str, Any]) -> FacePose:
    """Inverse of :func:`encode_face_pose`. Raises ``ValueError`` (or ``TypeError`` /
    ``KeyError``) if malformed."""
    return _decode_fields(
        FacePose, d, _FACE_POSE_SHAPES, {"features": lambda v: _decode_fields(FaceFeatures, v, _FEATURE_SHAPES)}
    )


def encode_person(person: Person) -> dict:
    """One person as a JSON-ready dict (see the module doc). ``mask`` is not stored."""
    out: dict[str, Any] = {"id": int(person.id), "score": _num(person.score)}
    for name in _PERSON_ARRAYS:
        arr = getattr(person, name)
        if arr is not None:
            out[name] = encode_array(arr)
    if person.body is not None:
        out["body"] = encode_body(person.body)
    if person.angles is not None:
        out["angles"] = {str(k): _num(v) for k, v in person.angles.items()}
    if person.fingers is not None:
        out["fingers"] = encode_fingers(person.fingers)
    if person.face_pose is not None:
        out["face_pose"] = encode_face_pose(person.face_pose)
    return out


def decode_person(d: Mapping[str, Any]) -> Person:
    """Inverse of :func:`encode_person`; arrays must have the data contract's shapes.
    Raises ``ValueError`` (or ``TypeError`` / ``KeyError``) if malformed."""
    if not isinstance(d["id"], int):
        raise ValueError(f"person id {d['id']!r} is not an integer")
    kwargs: dict[str, Any] = {
        "id": d["id"],
        "score": float("nan") if d.get("score") is None else float(d["score"]),
    }
    for name in _PERSON_ARRAYS:
        if name in d:
            kwargs[name] = decode_array(d[name], _PERSON_SHAPES[name])
    for name in ("landmarks", "world"):
        if name not in kwargs:
            raise KeyError(name)
    if "body" in d:
        kwargs["body"] = decode_body(d["body"])
    if "angles" in d:
        kwargs["angles"] = {str(k): float("nan") if v is None else float(v) for k, v in d["angles"].items()}
    if "fingers" in d:
        kwargs["fingers"] = decode_fingers(d["fingers"])
    if "face_pose" in d:
        kwargs["face_pose"] = decode_face_pose(d["face_pose"])
    return Person(**kwargs)


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One line of a take: ``<crc32 hex> <json>\\n`` (UTF-8)."""
    text = json.dumps(record, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return b"%08x " % zlib.crc32(text) + text + b"\n"


def decode_record(line: bytes) -> dict:
    """Inverse of :func:`encode_record`. Raises ``ValueError`` if the line is torn or corrupt."""
    line = line.rstrip(b"\r\n")
    if len(line) < 10 or line[8:9] != b" ":
        raise ValueError("not a checksummed record")
    crc, text = line[:8], line[9:]
    if int(crc, 16) != zlib.crc32(text):
        raise ValueError("checksum mismatch")
    obj = json.loads(text.decode("utf-8"))
    if not isinstance(obj, dict) or "type" not in obj:
        raise ValueError("record has no type")
    return obj


# ----------------------------------------------------------------------------- header


def take_header(
    source: str = "",
    source_kind: str = "",
    resolution: tuple[int, int] | None = None,
    fps: float | None = None,
    camera: Camera | None = None,
    command: str = "",
    settings: Mapping[str, Any] | None = None,
) -> dict:
    """The header record of a take: format, source, resolution ``(width, height)`` pixels,
    nominal fps, camera intrinsics (pixels, OpenCV convention), the skeleton (bone names,
    parent indices, rest offsets and end sites in metres, rig frame), landmark names and the
    arpose version. ``settings`` is free-form JSON (stage configs) stored as given."""
    from .. import __version__

    return {
        "type": "header",
        "format": "arpose-take",
        "version": FORMAT_VERSION,
        "arpose_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "source": {"name": str(source), "kind": source_kind},
        "resolution": list(resolution) if resolution else None,
        "fps": _num(fps) if fps else None,
        "camera": dataclasses.asdict(camera) if camera is not None else None,
        "skeleton": {
            "bones": list(BONE_NAMES),
            "parents": [int(p) for p in PARENTS],
            "rest_offsets": REST_OFFSETS.tolist(),
            "end_offsets": [None if np.isnan(e[0]) else e.tolist() for e in END_OFFSETS],
            "frame": "rig: metres, right-handed, +Y up, +Z subject forward, +X subject left",
        },
        "landmarks": list(NAMES),
        "quaternion_order": "xyzw",
        "settings": dict(settings or {}),
    }


# ----------------------------------------------------------------------------- writing


class TakeWriter:
    """Writes a take as it goes (a pipeline sink: ``write(pose_frame, image)``, ``close()``).

    path: the take's final name (``.take`` by convention); it is written as :attr:`temp`
    (``NAME.partial.take``) and renamed on close. header: from :func:`take_header`.
    force, inputs: as :func:`arpose.record.check_writable`. sync_interval: seconds between
    ``fsync`` calls.
    Nothing is created before the first frame; then the magic line, the header and the frame
    are written and synced. Every record is flushed to the operating system as it is written
    (so ``kill -9`` loses at most the record in progress); ``fsync`` (for power cuts) runs on
    a background thread so the frame loop never waits for the disk.
    Raises :class:`OutputError` if the file cannot be created or exists without ``force``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: Mapping[str, Any],
        force: bool = False,
        sync_interval: float = 0.5,
        inputs: Iterable[str | os.PathLike[str]] = (),
    ):
        self._pending = PendingOutput(path, force=force, inputs=inputs)
        self.path = self._pending.path
        self.temp = self._pending.temp
        self.sync_interval = float(sync_interval)
        self.frames = 0
        self.syncs = 0
        self._head = dict(header)
        self._head["type"] = "header"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._dirty = False
        self._file: Any = None
        self._closed = False
        self._syncer = threading.Thread(target=self._sync_loop, name="take-fsync", daemon=True)
        self._syncer.start()

    @property
    def result(self) -> OutputResult | None:
        """How the take ended (after :meth:`close`), else ``None``."""
        return self._pending.result

    def _open(self) -> None:
        self._file = self._pending.open("wb")
        self._write_line(f"{MAGIC} {FORMAT_VERSION}\n".encode("ascii"))
        self._write_line(encode_record(self._head))
        self._sync()

    def _write_line(self, data: bytes) -> None:
        try:
            self._file.write(data)
            self._file.flush()
        except OSError as exc:
            raise OutputError(f"cannot write take: {self.path} ({exc.strerror}; is the disk full?)") from None

    def _sync(self) -> None:
        self._dirty = False
        try:
            os.fsync(self._file.fileno())
        except OSError:  # pragma: no cover - fsync unsupported (some network filesystems)
            pass
        self.syncs += 1

    def _sync_loop(self) -> None:
        # The file stays open until close() has joined this thread, so the descriptor is valid.
        while not self._stop.wait(self.sync_interval):
            if self._dirty:
                self._sync()

    def write(self, pose_frame: PoseFrame, image: np.ndarray | None = None) -> None:
        """Append one frame (every person, all fields present). ``image`` is ignored."""
        record = {
            "type": "frame",
            "index": int(pose_frame.index),
            "t": float(pose_frame.timestamp),
            "people": [encode_person(p) for p in pose_frame.people],
        }
        line = encode_record(record)
        with self._lock:
            if self._closed:
                return
            if self._file is None:
                self._open()
            self._write_line(line)
            self.frames += 1
            self._dirty = True

    def close(self, partial: bool = False) -> OutputResult:
        """Write the end record, fsync, close and rename into place (no frames: no file).
        ``partial``: the run was cut short (reported in the result). Safe to call twice."""
        self._stop.set()
        self._syncer.join()
        with self._lock:
            if not self._closed:
                self._closed = True
                if self._file is not None:
                    try:
                        self._write_line(encode_record({"type": "end", "frames": self.frames}))
                        self._sync()
                    except OutputError:
                        partial = True
                        raise
                    finally:
                        self._file.close()
                        self._pending.finish(self.frames, partial=partial)
            return self._pending.finish(self.frames, partial=partial)

    def __enter__(self) -> "TakeWriter":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(partial=exc_type is not None)


def auto_take_name(folder: str | os.PathLike[str] = ".", prefix: str = "take", now: _dt.datetime | None = None) -> Path:
    """A new, unused take path in ``folder``: ``take-YYYYMMDD-HHMMSS.take`` (local time),
    with ``-2``, ``-3`` ... appended if that name (or its ``.partial.take``) exists."""
    now = now or _dt.datetime.now()
    base = Path(folder) / f"{prefix}-{now:%Y%m%d-%H%M%S}"
    path = base.with_suffix(TAKE_EXTENSION)
    k = 2
    while path.exists() or partial_path(path).exists():
        path = Path(f"{base}-{k}{TAKE_EXTENSION}")
        k += 1
    return path


class TakeRecorder:
    """A sink that records takes on demand (e.g. a key in ``arpose live``).

    ``start(path)`` opens a new take, ``stop()`` finishes it; frames written while no take is
    open are ignored. Thread-safe: start/stop may come from a UI thread while the pipeline
    writes. header: from :func:`take_header` (shared by every take this recorder makes).
    """

    def __init__(self, header: Mapping[str, Any], sync_interval: float = 0.5):
        self.header = dict(header)
        self.sync_interval = sync_interval
        self._writer: TakeWriter | None = None
        self._lock = threading.Lock()
        #: Paths of the takes finished so far (takes that ended with no frame made no file).
        self.finished: list[Path] = []

    @property
    def recording(self) -> bool:
        return self._writer is not None

    @property
    def path(self) -> Path | None:
        """The take being recorded, or ``None``."""
        w = self._writer
        return w.path if w is not None else None

    @property
    def frames(self) -> int:
        """Frames in the take being recorded (0 when idle)."""
        w = self._writer
        return w.frames if w is not None else 0

    def start(self, path: str | os.PathLike[str] | None = None, force: bool = False) -> Path:
        """Start a take at ``path`` (default: :func:`auto_take_name` in the current folder),
        finishing any take in progress. Returns the path. Raises :class:`OutputError`."""
        target = Path(path) if path is not None else auto_take_name()
        writer = TakeWriter(target, self.header, force=force, sync_interval=self.sync_interval)
        with self._lock:
            old, self._writer = self._writer, writer
        if old is not None:
            self._finish(old)
        return writer.path

    def _finish(self, writer: TakeWriter) -> Path | None:
        result = writer.close()
        if not result.kept:
            return None
        self.finished.append(result.path)
        return result.path

    def stop(self) -> Path | None:
        """Finish the take in progress; returns its path, or ``None`` if none was recording or
        it ended with no frame (then no file was made)."""
        with self._lock:
            old, self._writer = self._writer, None
        if old is None:
            return None
        return self._finish(old)

    def toggle(self, folder: str | os.PathLike[str] = ".") -> Path | None:
        """Stop if recording (returns ``None``), else start an automatically named take in
        ``folder`` (returns its path)."""
        if self.recording:
            self.stop()
            return None
        return self.start(auto_take_name(folder))

    def write(self, pose_frame: PoseFrame, image: np.ndarray | None = None) -> None:
        with self._lock:
            writer = self._writer
            if writer is not None:
                writer.write(pose_frame, image)

    def close(self) -> None:
        self.stop()


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class TakeFrame:
    """One recorded frame: source ``index``, ``timestamp`` seconds, and every person."""

    index: int
    timestamp: float
    people: tuple[Person, ...]


@dataclass
class Take:
    """A take read back. ``truncated`` is True (and ``warning`` says why) when the take ended
    without its end record or with a torn last line; ``frames`` then hold every complete
    frame. ``skipped`` counts corrupt records dropped by ``salvage=True``."""

    path: Path
    header: dict
    frames: list[TakeFrame]
    truncated: bool = False
    warning: str | None = None
    skipped: int = 0

    @property
    def timestamps(self) -> np.ndarray:
        """``(F,)`` seconds."""
        return np.array([f.timestamp for f in self.frames], dtype=np.float64)

    @property
    def fps(self) -> float:
        """The header's nominal fps, else the median frame rate, else 30."""
        fps = self.header.get("fps")
        if fps:
            return float(fps)
        t = self.timestamps
        if t.size > 1 and np.median(np.diff(t)) > 0:
            return float(1.0 / np.median(np.diff(t)))
        return 30.0

    @property
    def resolution(self) -> tuple[int, int] | None:
        r = self.header.get("resolution")
        return (int(r[0]), int(r[1])) if r else None

    @property
    def camera(self) -> Camera | None:
        c = self.header.get("camera")
        return Camera(**c) if c else None

    @property
    def person_ids(self) -> list[int]:
        """Every person id in the take, by how many frames hold a body pose for it (then how
        many frames it appears in), most first."""
        seen: dict[int, list[int]] = {}
        for f in self.frames:
            for p in f.people:
                c = seen.setdefault(p.id, [0, 0])
                c[0] += p.body is not None
                c[1] += 1
        return sorted(seen, key=lambda i: (-seen[i][0], -seen[i][1], i))

    def pose_frames(self, images: Iterable[np.ndarray] | None = None) -> Iterator[PoseFrame]:
        """The frames as :class:`PoseFrame` objects. ``images``: BGR images to pair with the
        frames in order (e.g. the source video); without them every frame shares one
        read-only black image of the take's resolution (640x480 if unknown)."""
        if images is None:
            w, h = self.resolution or (640, 480)
            blank = np.zeros((h, w, 3), dtype=np.uint8)
            blank.flags.writeable = False
            images_it: Iterator[np.ndarray] = itertools.repeat(blank)
        else:
            images_it = iter(images)
        for f in self.frames:
            try:
                image = next(images_it)
            except StopIteration:
                return
            yield PoseFrame(Frame(image=image, timestamp=f.timestamp, index=f.index), f.people)


def _bad_take(path: Path, what: str) -> InputError:
    return InputError(f"not a readable take: {path}: {what}")


def _check_version(path: Path, version: Any) -> None:
    """:class:`InputError` naming ``version`` and :data:`READ_VERSIONS` unless it is one."""
    if isinstance(version, int) and not isinstance(version, bool) and version in READ_VERSIONS:
        return
    reads = ", ".join(map(str, READ_VERSIONS))
    shown = repr(version)[:20]
    if isinstance(version, int) and version > max(READ_VERSIONS):
        raise InputError(
            f"take format version {shown} is newer than this arpose reads ({reads}): {path} (upgrade arpose)"
        )
    raise InputError(f"take format version {shown} is unknown; this arpose reads version {reads}: {path}")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_header(path: Path, header: Mapping[str, Any]) -> None:
    """The header fields :class:`Take` relies on are well-formed; else :class:`InputError`."""
    if "version" in header:
        _check_version(path, header["version"])
    fps, res, cam = header.get("fps"), header.get("resolution"), header.get("camera")
    if fps is not None and not (_number(fps) and fps > 0):
        raise _bad_take(path, f"the header's fps {fps!r} is not a positive number")
    if res is not None and not (
        isinstance(res, list) and len(res) == 2 and all(isinstance(v, int) and 0 < v <= _MAX_SIDE for v in res)
    ):
        raise _bad_take(path, f"the header's resolution {str(res)[:40]} is not [width, height]")
    if cam is not None:
        fields = [f.name for f in dataclasses.fields(Camera)]
        if not (isinstance(cam, dict) and sorted(cam) == sorted(fields) and all(_number(cam[k]) for k in fields)):
            raise _bad_take(path, f"the header's camera {str(cam)[:60]} is not {{{', '.join(fields)}}}")


def _decode_frame(rec: Mapping[str, Any]) -> TakeFrame:
    """A frame record as a :class:`TakeFrame`. Raises ``ValueError`` (and the other
    :data:`_DECODE_ERRORS`) if malformed."""
    index, t, people = rec["index"], rec["t"], rec["people"]
    if not (isinstance(index, int) and _number(t) and isinstance(people, list)):
        raise ValueError("a frame needs an integer index, a finite time and a list of people")
    return TakeFrame(index, float(t), tuple(decode_person(d) for d in people))


def read_take(path: str | os.PathLike[str], salvage: bool = False, warn: bool = True) -> Take:
    """Read a take file.

    A take that ends without its end record or with a torn last line (the recorder was
    killed) is returned with ``truncated=True`` and ``warning`` set, and a
    :class:`TruncatedTakeWarning` is issued (``warn=False`` to only set the flag).
    A corrupt record *before* the end raises :class:`InputError`, unless ``salvage=True``,
    which skips such records (counted in ``Take.skipped``).
    Raises :class:`InputError` for a missing, empty, foreign or newer-version file.
    """
    p = Path(path)
    raw = read_input_bytes(p, "take")
    first, _, rest = raw.partition(b"\n")
    if not raw:
        raise InputError(f"take is empty (0 bytes): {p}")
    magic = first.split()
    if len(magic) != 2 or magic[0] != MAGIC.encode():
        hint = ""
        if first.startswith(b"HIERARCHY"):
            hint = " (this is a BVH file)"
        elif first.startswith(b"frame,"):
            hint = " (this is a landmark CSV)"
        raise _bad_take(p, f"it does not start with {MAGIC!r}{hint}")
    try:
        version = int(magic[1])
    except ValueError:
        raise _bad_take(p, f"bad format version {magic[1][:20]!r}") from None
    _check_version(p, version)
    lines = rest.split(b"\n")
    # A complete file ends with "\n": the last split element is empty. Anything else is torn.
    torn_tail = lines.pop() != b""
    if not lines:
        raise _bad_take(p, "the header is missing (the take was cut off as it started)")
    try:
        header = decode_record(lines[0])
    except _DECODE_ERRORS as exc:
        raise _bad_take(p, f"the header is corrupt ({exc})") from None
    if header.get("type") != "header":
        raise _bad_take(p, "the second line is not the header record")
    _check_header(p, header)
    frames: list[TakeFrame] = []
    ended = False
    skipped = 0
    problems: list[str] = []
    for n, line in enumerate(lines[1:], start=3):
        try:
            rec = decode_record(line)
            kind = rec["type"]
            if kind == "frame":
                frames.append(_decode_frame(rec))
            elif kind == "end":
                ended = True
        except _DECODE_ERRORS as exc:
            last = n == len(lines) + 1
            if last and not torn_tail:
                torn_tail = True  # a complete-looking but corrupt final line: cut mid-write
                continue
            if salvage:
                skipped += 1
                continue
            raise InputError(
                f"take is corrupt: {p}: record on line {n} is damaged ({exc}); use --salvage to skip damaged records"
            ) from None
    if torn_tail:
        problems.append("its last record is torn")
    if not ended:
        problems.append("it has no end record (the recorder was stopped abruptly)")
    warning = None
    if problems:
        warning = f"take {p} is truncated: {' and '.join(problems)}; read {len(frames)} complete frames"
        if warn:
            warnings.warn(warning, TruncatedTakeWarning, stacklevel=2)
    return Take(path=p, header=header, frames=frames, truncated=bool(problems), warning=warning, skipped=skipped)
