"""The same batch on the process pool, on Ray started in this process (``ray.init(num_cpus=2)``)
and on a Ray cluster of a head node and one worker node started on loopback: the outputs are
identical (CSVs and BVH byte for byte, takes record for record)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from arpose.batch import BatchOptions, RayBackend, plan_batch, run_batch

from .conftest import SHORT, assert_same_outputs, batch_env, job_records, no_leftovers, run_batch_cli

NAMES = [Path(n).stem for n in SHORT]


@pytest.fixture(scope="module")
def inputs(media, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    for name in SHORT:
        (folder / name).symlink_to(media / "videos" / name)
    return folder


@pytest.fixture(scope="module")
def pool_out(inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pool") / "out"
    proc = run_batch_cli(inputs, "--out", out, "--no-progress", "--workers", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.mark.slow
def test_ray_in_this_process_matches_the_pool(pool_out, inputs, tmp_path):
    pytest.importorskip("ray")
    plan = plan_batch([str(inputs)], BatchOptions(out_dir=tmp_path / "out"))
    backend = RayBackend(None, workers=2)  # ray.init(num_cpus=2)
    summary = run_batch(plan, backend)
    assert summary.ok and summary.count("done") == 2
    assert backend.cluster_cpus == 2
    assert_same_outputs(pool_out, tmp_path / "out", NAMES)
    no_leftovers(tmp_path / "out")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"ray start exited ({proc.returncode}): {log.read_text()[-2000:]}")
        time.sleep(0.5)
    raise AssertionError(f"ray start did not start in {timeout} s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def ray_cluster(tmp: Path):
    """``ray start --head`` and one worker node (``ray start --address``) on 127.0.0.1, one CPU
    each, in sessions of their own; stopped by their process ids (SIGTERM, which ``ray start
    --block`` passes on to its node's processes), never with ``ray stop`` (which would stop
    every Ray on the machine)."""
    ray = shutil.which("ray")
    if ray is None:
        pytest.skip("the ray command is not installed (pip install 'arpose[ray]')")
    port = _free_port()
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats", "--block"]
    head_args = [ray, "start", "--head", "--port", str(port), "--include-dashboard", "false"]
    head_args += ["--ray-client-server-port", str(_free_port()), "--dashboard-agent-listen-port", str(_free_port())]
    short = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay under 108 bytes
    head_args += ["--temp-dir", short] + common
    node_args = [ray, "start", "--address", f"127.0.0.1:{port}", "--dashboard-agent-listen-port", str(_free_port())]
    node_args += common
    procs: list[subprocess.Popen] = []
    try:
        for i, args in enumerate((head_args, node_args)):
            log = tmp / f"ray-{i}.log"
            with open(log, "w") as fh:
                procs.append(
                    subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=batch_env(), start_new_session=True)
                )
            _wait_for(log, "Ray runtime started", procs[-1])
        yield f"127.0.0.1:{port}"
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # anything of that node's session still there
        shutil.rmtree(short, ignore_errors=True)


@pytest.mark.slow
def test_a_ray_cluster_of_two_nodes_matches_the_pool(pool_out, inputs, tmp_path):
    pytest.importorskip("ray")
    with ray_cluster(tmp_path) as address:
        out = tmp_path / "out"
        proc = run_batch_cli(inputs, "--out", out, "--ray", address, "--no-progress")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "2 CPUs" in proc.stdout  # both nodes' CPUs
    assert_same_outputs(pool_out, out, NAMES)
    assert sorted(r["name"] for r in job_records(out, "done")) == sorted(NAMES)
    no_leftovers(out)
