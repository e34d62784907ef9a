"""The batch manifest: ``DIR/manifest.jsonl``, one JSON object per line, appended as jobs
start and end, so a batch can be stopped at any point and resumed.

Record fields (:class:`Record`): ``input`` (absolute path), ``name`` (the output folder under
DIR), ``size`` (bytes) and ``mtime_ns`` of the input when the job started, ``settings`` (a
digest of the pipeline settings), ``status`` (``running``, ``done`` or ``failed``),
``frames``, ``seconds``, ``error`` (one line, failed jobs), ``segment`` (for a part of a
video cut with ``--split-minutes``: ``{"index", "count", "start", "end", "warmup_from"}``,
else absent), ``attempt``, ``worker`` (``host:pid``) and ``time`` (UTC).

The latest record of a job (:func:`latest`) is its state. Only the coordinating process
writes (:class:`ManifestWriter`): workers return their results to it, so appends never
interleave however many jobs end at once. Each append is one ``write`` of a whole line,
flushed and ``fsync``-ed before the batch goes on; a batch killed mid-append leaves at most
a torn last line, which :func:`read_manifest` skips and the next writer cuts off before
appending, so every line but the last is always a whole record.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import InputError, OutputError

MANIFEST_NAME = "manifest.jsonl"
STATUSES = ("running", "done", "failed")


@dataclass(frozen=True)
class Record:
    """One manifest line (see the module doc)."""

    input: str
    name: str
    size: int
    mtime_ns: int
    settings: str
    status: str
    frames: int = 0
    seconds: float = 0.0
    error: str | None = None
    segment: Mapping[str, Any] | None = None
    attempt: int = 1
    worker: str = ""
    time: str = ""

    @property
    def key(self) -> tuple[str, int | None]:
        """``(input, segment index or None)``: which job the record is about."""
        return (self.input, None if self.segment is None else int(self.segment["index"]))

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if data["segment"] is None:
            del data["segment"]
        else:
            data["segment"] = dict(data["segment"])
        if not data["time"]:
            data["time"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
        return json.dumps(data, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> "Record":
        """Raises ``ValueError`` / ``KeyError`` / ``TypeError`` if the line is not a record."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        names = {f.name for f in dataclasses.fields(cls)}
        rec = cls(**{k: v for k, v in data.items() if k in names})
        if rec.status not in STATUSES or not isinstance(rec.input, str) or not isinstance(rec.name, str):
            raise ValueError(f"bad status or names in {text[:80]!r}")
        if not isinstance(rec.size, int) or not isinstance(rec.mtime_ns, int):
            raise ValueError("size and mtime_ns must be integers")
        if rec.segment is not None and not isinstance(rec.segment.get("index"), int):
            raise ValueError("segment without an index")
        return rec


def read_manifest(path: str | os.PathLike[str]) -> list[Record]:
    """Every record in the manifest at ``path`` (none if it does not exist), in order.

    A torn or unreadable *last* line (a batch killed while appending) is skipped. A damaged
    line before the last raises :class:`InputError` naming it: the manifest was edited or
    belongs to something else, and guessing could redo or lose work.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"cannot read the batch manifest {p} ({exc.strerror})") from None
    lines = raw.split(b"\n")
    records = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(Record.from_json(line.decode("utf-8")))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            if n >= len(lines) - 1 and not raw.endswith(b"\n"):
                break  # the torn last line of a batch killed mid-append
            raise InputError(
                f"batch manifest {p} line {n} is not a record ({exc}); move the file away to start the batch afresh"
            ) from None
    return records


def latest(records: Iterable[Record]) -> dict[tuple[str, int | None], Record]:
    """The last record of each job (:attr:`Record.key`)."""
    out: dict[tuple[str, int | None], Record] = {}
    for r in records:
        out[r.key] = r
    return out


class ManifestWriter:
    """Appends records to the manifest; used by the coordinating process only.

    Each :meth:`append` writes one whole line with a single ``write`` call, flushes it and
    ``fsync``-s it (about a millisecond), so a record on disk is complete before the batch
    acts on it. If the file does not end with a newline (a record torn by a kill), the torn
    part is cut off first. Raises :class:`OutputError`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            raw = self.path.read_bytes()
            if raw and not raw.endswith(b"\n"):
                os.truncate(self.path, raw.rfind(b"\n") + 1)
                os.fsync(self._fd)
        except OSError as exc:
            raise OutputError(f"cannot write the batch manifest {self.path} ({exc.strerror})") from None

    def append(self, record: Record) -> None:
        data = (record.to_json() + "\n").encode("utf-8")
        try:
            written = os.write(self._fd, data)
            if written != len(data):  # pragma: no cover - a regular file takes the whole line
                raise OSError(0, "short write")
            os.fsync(self._fd)
        except OSError as exc:
            raise OutputError(f"cannot append to the batch manifest {self.path} ({exc.strerror})") from None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "ManifestWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
