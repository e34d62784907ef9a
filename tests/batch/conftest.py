"""Helpers for the batch tests: run ``arpose batch`` as a user would (a subprocess), read its
manifest, and compare two batches' outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: Short real clips (42 and 102 frames) for the backend and fault tests.
SHORT = ("single_dance_woman.mp4", "single_dance_man.mp4")
#: Ray's ``ray start`` turns token authentication on by default; the loopback test cluster
#: runs without it (the driver's default).
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def batch_env() -> dict:
    return {**os.environ, **RAY_ENV}


def run_batch_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "arpose", "batch", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=batch_env(),
    )


def records(out: Path) -> list[dict]:
    path = Path(out) / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def job_records(out: Path, status: str | None = None) -> list[dict]:
    """Whole-video records (not segments), optionally of one status."""
    return [r for r in records(out) if "segment" not in r and (status is None or r["status"] == status)]


def take_body(path: Path) -> list[bytes]:
    """A take's frame and end records (its header holds the creation time)."""
    lines = Path(path).read_bytes().split(b"\n")
    assert lines[0].startswith(b"ARPOSE-TAKE") and b'"type":"header"' in lines[1]
    return lines[2:]


def assert_same_outputs(a: Path, b: Path, names) -> None:
    """Identical outputs: every CSV and BVH byte for byte, takes record for record (all but
    the header's creation time)."""
    for name in names:
        files_a = sorted(p.name for p in (Path(a) / name).iterdir())
        files_b = sorted(p.name for p in (Path(b) / name).iterdir())
        assert (
            files_a == files_b == sorted([f"{name}.take", f"{name}.bvh", f"{name}.landmarks.csv", f"{name}.angles.csv"])
        )
        for f in files_a:
            pa, pb = Path(a) / name / f, Path(b) / name / f
            if f.endswith(".take"):
                assert take_body(pa) == take_body(pb), f"{name}: takes differ"
            else:
                assert pa.read_bytes() == pb.read_bytes(), f"{name}: {f} differs"


def no_leftovers(out: Path) -> None:
    """No half-written file under a final name, no unfinished work left behind."""
    out = Path(out)
    assert not [p for p in out.rglob("*.partial*") if ".arpose-batch" not in p.parts]
    work = out / ".arpose-batch" / "work"
    assert not work.exists() or not [p for p in work.rglob("out-*")]
