"""Faults: a worker process killed mid-batch, and ``kill -9`` of the whole batch. No job is
lost or done twice, and a rerun finishes what is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SHORT, batch_env, job_records, no_leftovers, records, run_batch_cli


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def _pool_workers(pid: int) -> list[int]:
    out = []
    for kid in _children(pid):
        try:
            cmd = Path(f"/proc/{kid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            out.append(kid)
    return out


def _start(inputs: Path, out: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "arpose", "batch", str(inputs), "--out", str(out), "--no-progress", "--workers", "2"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=batch_env())


def _wait(predicate, proc: subprocess.Popen, timeout: float = 300.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def _manifest(out: Path) -> list[dict]:
    return records(out) if (out / "manifest.jsonl").exists() else []


def _folder(media, tmp_path, names) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names:
        (folder / name).symlink_to(media / "videos" / name)
    return folder


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(media, tmp_path):
    long_clips = ("face_blink_headtilt_tfjs.mp4", "hands_asl_fingerspelling_tfjs.mp4")
    inputs, out = _folder(media, tmp_path, long_clips), tmp_path / "out"
    proc = _start(inputs, out)
    try:
        _wait(lambda: sum(r["status"] == "running" for r in _manifest(out)) >= 2, proc)
        time.sleep(3.0)  # both workers are into their video (325 frames each)
        assert not [r for r in _manifest(out) if r["status"] == "done"]
        victim = _pool_workers(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stdout + stderr
    assert "worker process died (SIGKILL)" in stderr and "running it again" in stderr
    done = job_records(out, "done")
    assert sorted(r["name"] for r in done) == ["face_blink_headtilt_tfjs", "hands_asl_fingerspelling_tfjs"]
    assert all(r["frames"] == 325 for r in done)
    assert sorted(r["attempt"] for r in job_records(out, "running")) == [1, 1, 2]
    no_leftovers(out)
    again = run_batch_cli(inputs, "--out", out, "--no-progress")
    assert again.returncode == 0 and "2 finished before" in again.stdout
    assert len(job_records(out, "done")) == 2


@pytest.mark.slow
def test_kill_9_of_the_whole_batch_then_a_rerun_completes_every_job_once(media, tmp_path):
    clips = (*SHORT, "single_armsup_oneleg.mp4")
    inputs, out = _folder(media, tmp_path, clips), tmp_path / "out"
    proc = _start(inputs, out)
    try:
        _wait(lambda: any(r["status"] == "done" for r in _manifest(out)), proc)
        workers = _pool_workers(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        end = time.monotonic() + 30
        while any(Path(f"/proc/{w}").exists() for w in workers):  # the kernel kills them with the batch
            assert time.monotonic() < end, "pool workers outlived the batch"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    first = {r["name"] for r in job_records(out, "done")}
    assert 1 <= len(first) < 3
    for name in first:
        assert len(list((out / name).iterdir())) == 4
    again = run_batch_cli(inputs, "--out", out, "--no-progress")
    assert again.returncode == 0, again.stdout + again.stderr
    done = [r["name"] for r in job_records(out, "done")]
    assert sorted(done) == sorted(Path(c).stem for c in clips)  # every job done exactly once
    assert f"{len(first)} finished before" in again.stdout
    for name in done:
        assert sorted(p.suffix for p in (out / name).iterdir()) == [".bvh", ".csv", ".csv", ".take"]
    no_leftovers(out)
