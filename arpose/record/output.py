"""Output files that no stop leaves half-written, and the checks made before creating one.

Every file arpose writes (annotated video or image, landmark CSV, angles CSV, take, BVH) goes
through :class:`PendingOutput`:

* While it is being written the file lives beside its final name as ``NAME.partial.EXT``
  (:func:`partial_path`: ``out.mp4`` -> ``out.partial.mp4``, ``a.take`` -> ``a.partial.take``),
  so it keeps its extension and opens in players and in ``arpose export`` as it is.
* A clean close renames it onto the final name in one step (``os.replace``, after an
  ``fsync``), so the final name only ever holds a complete file. With ``--force`` the file
  that was there stays untouched until that moment.
* An output that ends with no frames is removed on close (nothing is left to block a
  corrected re-run with "output exists"); an existing file of that name is left as it was.
* An output cut short (the run stopped on an error or a signal: ``close(partial=True)``) keeps
  its real frames under the final name, and its :class:`OutputResult` says it is partial.
* After ``kill -9`` the ``.partial`` file stays where it is, holding what was written (the
  video as fragmented MP4 or Matroska, the take with its own crash safety). A later run refuses
  to overwrite such a leftover without ``--force``.

Writers create nothing on disk before their first frame, so a run that stops before it
starts leaves no file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable

from ..errors import OutputError

#: What :func:`partial_path` inserts before an output's extension.
PARTIAL_TAG = ".partial"

PathLike = str | os.PathLike[str]


def partial_path(path: PathLike) -> Path:
    """Where ``path`` is written until it is complete: ``NAME.partial.EXT`` in the same folder
    (``NAME.partial`` for a name without extension)."""
    p = Path(path)
    return p.with_name(f"{p.stem}{PARTIAL_TAG}{p.suffix}")


def _same_file(a: Path, b: Path) -> bool:
    """True if ``a`` and ``b`` name one file: the same path once symlinks are resolved, or
    (both existing) the same inode, e.g. hard links."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _missing_folder(parent: Path) -> str:
    """Why ``parent`` (not a folder) cannot hold an output: it, or the nearest existing path
    above it, is a file; or it does not exist."""
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{probe} is a file, not a folder"
    return f"output folder does not exist: {parent} (create it first)"


def check_writable(path: PathLike, force: bool = True, inputs: Iterable[PathLike] = ()) -> Path:
    """Check up front that output ``path`` can be created; returns it as a :class:`Path`.

    Raises :class:`OutputError` (with or without ``force``) if the path is, or its
    ``.partial`` name (:func:`partial_path`) would be, one of ``inputs`` (symlinks resolved,
    hard links found by :func:`os.path.samefile`); if it is a folder; if its folder is missing,
    is a file, or is not writable. Without ``force`` also if a file of that name exists, or a
    ``.partial`` file an earlier, stopped run left there.
    """
    p = Path(path)
    temp = partial_path(p)
    for inp in inputs:
        q = Path(inp)
        if _same_file(p, q) or _same_file(temp, q):
            raise OutputError(f"{p} is an input of this run; choose another output name")
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OutputError(f"output is a folder, expected a file name: {p}")
    if not parent.is_dir():
        raise OutputError(_missing_folder(parent))
    try:  # the definitive check (os.access says yes to root even on read-only mounts)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".arpose-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"output folder is not writable: {parent} ({exc.strerror})") from None
    if not force:
        if p.exists():
            raise OutputError(f"output exists: {p} (use --force to overwrite)")
        if temp.exists():
            raise OutputError(
                f"{temp} is left from an earlier run that stopped; rename or delete it, or use --force to overwrite"
            )
    return p


@dataclass(frozen=True)
class OutputResult:
    """How an output ended. path: its final name. frames: frames (or records) it holds; 0
    means nothing was written and no file is there (an earlier file of that name, if any, is
    untouched). partial: the run was cut short, the file holds the frames done."""

    path: Path
    frames: int
    partial: bool = False

    @property
    def kept(self) -> bool:
        """True if a file was written at :attr:`path`."""
        return self.frames > 0

    def describe(self, unit: str = "frames") -> str:
        """One line for the user, e.g. ``"wrote out.mp4 (42 frames)"``,
        ``"wrote out.mp4 (17 frames, partial: the run stopped early)"`` or
        ``"out.mp4 not written (no frames)"``."""
        if not self.kept:
            return f"{self.path} not written (no {unit})"
        note = ", partial: the run stopped early" if self.partial else ""
        return f"wrote {self.path} ({self.frames} {unit}{note})"


def fsync_path(path: Path) -> None:
    """Flush ``path`` (a file or a folder) to the disk; best effort (some filesystems refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class PendingOutput:
    """One output file in the making: written at :attr:`temp` (:func:`partial_path`), renamed
    to :attr:`path` by :meth:`finish` if it holds frames, removed if it holds none.

    path: the final name; force, inputs: as :func:`check_writable`, which runs here.
    Raises :class:`OutputError`.
    """

    def __init__(self, path: PathLike, force: bool = True, inputs: Iterable[PathLike] = ()):
        self.path = check_writable(path, force=force, inputs=inputs)
        self.temp = partial_path(self.path)
        self.result: OutputResult | None = None

    def open(self, mode: str = "w", **kwargs: Any) -> IO[Any]:
        """Open :attr:`temp` (``open()`` arguments; text defaults to UTF-8). Raises
        :class:`OutputError` if it cannot be created."""
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
        try:
            return open(self.temp, mode, **kwargs)
        except OSError as exc:
            raise OutputError(f"cannot create {self.path} ({exc.strerror})") from None

    def finish(self, frames: int, partial: bool = False) -> OutputResult:
        """Commit the closed temporary file: onto :attr:`path` if ``frames > 0``, else delete it.
        Safe to call twice (returns the first result). Raises :class:`OutputError` if the
        rename fails (the temporary file is then kept, and named in the message)."""
        if self.result is not None:
            return self.result
        frames = int(frames)
        if frames <= 0 or not self.temp.exists():
            self.temp.unlink(missing_ok=True)
            self.result = OutputResult(self.path, 0, partial)
            return self.result
        fsync_path(self.temp)
        try:
            os.replace(self.temp, self.path)
        except OSError as exc:
            raise OutputError(
                f"cannot rename {self.temp} to {self.path} ({exc.strerror}); the data is in {self.temp}"
            ) from None
        fsync_path(self.path.parent if str(self.path.parent) else Path("."))
        self.result = OutputResult(self.path, frames, partial)
        return self.result

    def discard(self) -> OutputResult:
        """Remove the temporary file (nothing is kept); the result reports 0 frames."""
        return self.finish(0)


class CsvOutput:
    """A CSV output made of per-frame row batches, over a :class:`PendingOutput`: the header
    row ``columns`` and the file appear with the first frame; each frame's rows are flushed
    to the operating system at once. ``frames`` counts frames (with or without rows),
    ``rows`` the rows. Leaving a ``with`` block on an exception closes it as partial. The CSV
    sinks (landmarks, angles) subclass it. Raises :class:`OutputError`."""

    def __init__(
        self, path: PathLike, columns: Iterable[str], force: bool = True, inputs: Iterable[PathLike] = ()
    ) -> None:
        self._pending = PendingOutput(path, force=force, inputs=inputs)
        self.path = self._pending.path
        self.columns = tuple(columns)
        self.frames = 0
        self.rows = 0
        self._file: IO[str] | None = None
        self._csv: Any = None

    @property
    def result(self) -> OutputResult | None:
        """How the output ended (after :meth:`close`), else ``None``."""
        return self._pending.result

    def write_frame(self, rows: Iterable[Iterable[Any]]) -> None:
        """Append one frame's ``rows`` (possibly none) and flush."""
        import csv

        try:
            if self._file is None:
                self._file = self._pending.open("w", newline="")
                self._csv = csv.writer(self._file)
                self._csv.writerow(self.columns)
            for row in rows:
                self._csv.writerow(row)
                self.rows += 1
            self._file.flush()
        except OSError as exc:
            raise OutputError(f"cannot write {self.path} ({exc.strerror}; is the disk full?)") from None
        self.frames += 1

    def close(self, partial: bool = False) -> OutputResult:
        """Close and rename into place (no frames: no file). ``partial``: the run was cut
        short. Safe to call twice."""
        if self._file is not None and not self._file.closed:
            try:
                self._file.close()
            except OSError as exc:
                self._pending.finish(self.frames, partial=True)
                raise OutputError(f"cannot finish {self.path} ({exc.strerror}; is the disk full?)") from None
        return self._pending.finish(self.frames, partial=partial)

    def __enter__(self) -> "CsvOutput":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(partial=exc_type is not None)
