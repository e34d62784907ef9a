"""``arpose bench --batch`` on one real clip: four runs (pool and Ray, 1 and 2 workers), each
with every video done, per-job figures, the 2-over-1 speed-ups and a cluster projection."""

import json
import subprocess
import sys

import pytest

from arpose.batch.bench import project

from .conftest import batch_env


@pytest.mark.slow
def test_bench_batch_reports_both_backends_and_a_projection(media):
    pytest.importorskip("ray")
    clip = media / "videos" / "single_dance_woman.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "arpose", "bench", "--batch", str(clip), "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        env=batch_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout)
    assert [(r["backend"], r["workers"]) for r in res["runs"]] == [("pool", 1), ("pool", 2), ("ray", 1), ("ray", 2)]
    for r in res["runs"]:
        assert r["videos"] == 1 and r["frames"] == 42 and r["failed"] == 0
        assert r["busy_seconds"] > 0 and r["frame_ms"] > 0 and r["job_overhead_in_worker_s"] > 0
    assert res["pool_speedup_2_over_1"] > 0 and res["ray_speedup_2_over_1"] > 0
    assert res["runs"][0]["pinned"]["cv2_threads"] == 1
    assert [p["video_frames"] for p in res["projection"]] == [300, 1800, 18000]


def test_projection_arithmetic():
    run = {
        "frame_ms": 20.0,
        "job_overhead_in_worker_s": 1.0,
        "job_overhead_handoff_s": 0.5,
        "coordinator_cpu_per_job_ms": 10.0,
    }
    p = project(run, nodes=100, cores=2, video_frames=1800)
    assert p["job_seconds"] == pytest.approx(37.5)
    assert p["videos_per_s"] == pytest.approx(200 / 37.5) and p["limit"] == "workers"
    assert p["overhead_share"] == pytest.approx(1.5 / 37.5)
    tiny = project(run, nodes=100, cores=2, video_frames=1)
    assert tiny["limit"] == "coordinator" and tiny["videos_per_s"] == pytest.approx(100.0)
