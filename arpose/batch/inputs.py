"""Which videos a batch processes, and the folder name each one's outputs get.

:func:`find_videos` expands the command line's INPUTS (video files, folders searched
recursively, glob patterns) into a sorted list of distinct files, never descending into the
batch's own output folder. :func:`assign_names` gives every video an output folder name:
its file stem, made longer where two inputs would share one (``a/clip.mp4`` and
``b/clip.mp4`` become ``a-clip`` and ``b-clip``), keeping the names an earlier run of the
same batch already gave (read from the manifest), so a rerun never renames a folder.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import InputError

#: File name endings taken as videos when a folder or glob is expanded (case-insensitive).
#: A file named explicitly is taken whatever its ending.
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".mts", ".3gp"}
)

_GLOB_CHARS = re.compile(r"[*?\[]")
#: Characters kept in folder names; anything else becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file() and not path.name.startswith(".")


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def _walk(folder: Path, exclude: Path | None) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        root_p = Path(root)
        # Hidden folders (the batch's own .arpose-batch) and the output folder are never inputs.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _inside(root_p / d, exclude))
        found += [root_p / f for f in sorted(files) if _is_video(root_p / f)]
    return found


def find_videos(inputs: Iterable[str], exclude: str | os.PathLike[str] | None = None) -> list[Path]:
    """The video files ``inputs`` name, as absolute paths, sorted, each once.

    inputs: video files (taken whatever their extension), folders (searched recursively for
        :data:`VIDEO_EXTENSIONS`, hidden folders skipped) and glob patterns (``**`` recurses).
    exclude: a folder whose contents are never inputs (the batch's output folder).

    Raises :class:`InputError` naming the first input that does not exist, a glob that
    matches nothing, or a folder with no video; and if nothing at all is found.
    """
    skip = Path(exclude).resolve() if exclude is not None else None
    seen: dict[Path, None] = {}
    for item in inputs:
        text = str(item)
        if not text.strip():
            raise InputError("an input is an empty name; give video files, folders or globs")
        p = Path(text).expanduser()
        if p.is_dir():
            found = _walk(p, skip)
            if not found:
                raise InputError(f"folder holds no video ({', '.join(sorted(VIDEO_EXTENSIONS))}): {p}")
        elif p.is_file():
            found = [p]
        elif _GLOB_CHARS.search(text):
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True))
            found = []
            for m in matches:
                found += _walk(m, skip) if m.is_dir() else ([m] if _is_video(m) else [])
            if not found:
                raise InputError(f"no video matches {text!r}")
        elif p.exists():
            raise InputError(f"input is neither a file nor a folder: {p}")
        else:
            raise InputError(f"input not found: {p} (check the path)")
        for f in found:
            a = Path(os.path.abspath(f))
            if not _inside(a, skip):
                seen.setdefault(a, None)
    if not seen:
        raise InputError("no video to process (every input lies inside the output folder)")
    return sorted(seen)


def safe_name(text: str) -> str:
    """``text`` as a portable folder name: letters, digits and ``._+-`` kept, runs of
    anything else as ``_``; never empty, never starting with a dot."""
    name = _UNSAFE.sub("_", text).strip("_") or "video"
    return "_" + name if name.startswith(".") else name


def _candidates(path: Path) -> list[str]:
    """Longer and longer names for ``path``: the stem, then parent folders before it, then the
    extension, then a digest of the whole path (always unique)."""
    parts = [safe_name(p) for p in path.parent.parts if p not in ("/", "\\") and not p.endswith(":\\")]
    stem = safe_name(path.stem)
    names = [stem] + ["-".join(parts[-k:] + [stem]) for k in range(1, len(parts) + 1)]
    ext = safe_name(path.suffix.lstrip(".")) if path.suffix else ""
    if ext:
        names.append(f"{names[-1]}-{ext}")
    names.append(f"{stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:10]}")
    return names


def assign_names(paths: Iterable[Path], known: Mapping[str, str] | None = None) -> dict[Path, str]:
    """An output folder name for every path: ``{path: name}``, names distinct (compared
    case-insensitively, as macOS and Windows file systems do).

    known: ``{str(path): name}`` given by an earlier run (the manifest); those keep their name
    and no other path may take it. The others get the shortest of :func:`_candidates` that no
    other path in the batch could also get at that length, so the result does not depend on
    the order of the inputs: ``a/clip.mp4`` and ``b/clip.mp4`` are ``a-clip`` and ``b-clip``.
    """
    known = dict(known or {})
    paths = sorted(set(paths))
    out: dict[Path, str] = {}
    taken = {n.lower() for n in known.values()}
    fresh = []
    for p in paths:
        if str(p) in known:
            out[p] = known[str(p)]
        else:
            fresh.append(p)
    cands = {p: _candidates(p) for p in fresh}
    for p in fresh:
        for level, name in enumerate(cands[p]):
            rivals = [q for q in fresh if q != p and level < len(cands[q]) and cands[q][level].lower() == name.lower()]
            if not rivals and name.lower() not in taken:
                break
        else:  # pragma: no cover - the digest is unique
            name = cands[p][-1]
        out[p] = name
        taken.add(name.lower())
    return out
