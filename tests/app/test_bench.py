"""`arpose bench` end to end on a short real clip: both arms see every frame, the full arm
runs every feature, and the report has the numbers the README quotes (no speed asserts:
speed goals live in the benchmark itself)."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bench_reports_both_arms_on_a_real_clip(media):
    clip = media / "videos" / "single_dance_woman.mp4"  # 42 frames at 10 fps
    proc = subprocess.run(
        [sys.executable, "-m", "arpose", "bench", "--video", str(clip), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    bare, full, analysis = res["bare"], res["full"], res["analysis"]
    assert bare["frames"] == 42 and full["frames"] == 42 and analysis["frames"] == 42
    assert set(full["features"]) >= {"props", "vmc", "osc", "take"}
    assert {"estimate", "smooth", "retarget", "render", "props", "output"} <= set(full["stages"])
    assert {"decode", "estimate"} <= set(bare["stages"])
    assert set(analysis["features"]) >= {"vmc", "osc", "take"} and "props" not in analysis["features"]
    assert {"estimate", "smooth", "retarget", "output"} <= set(analysis["stages"]) and "render" not in analysis[
        "stages"
    ]
    for arm in (bare, full):
        assert arm["fps"] > 0 and arm["peak_rss_mb"] > 50
    assert 0 < full["latency_ms"]["median"] <= full["latency_ms"]["p95"]
    assert 0 < full["display_latency_ms"]["median"] <= full["display_latency_ms"]["p95"]
    assert full["latency_ms"]["median"] < full["display_latency_ms"]["median"]  # packets leave before rendering
    assert full["live_dropped"] >= 0 and res["ratio_fps_full_over_bare"] > 0
    assert res["non_rendering_overhead_pct"] > 0 and analysis["fps"] > 0
    assert res["analysis_overhead_pct"] == 100.0 * (bare["fps"] / analysis["fps"] - 1.0)
    # The LiteRT backend's arms: its bare loop and the full pipeline on it, the same frames.
    bare_lite, full_lite = res["bare_litert"], res["full_litert"]
    assert bare_lite["frames"] == 42 and full_lite["frames"] == 42
    # threads as a run chooses them: both cores for the model alone, one beside the props' render
    assert bare_lite["threads"] == 2 and full_lite["threads"] == 1 and full["threads"] is None
    assert {"decode", "estimate"} <= set(bare_lite["stages"]) and "render" in full_lite["stages"]
    assert res["ratio_litert_bare_over_mediapipe_bare"] == bare_lite["fps"] / bare["fps"]
    assert res["ratio_full_litert_over_bare_litert"] == full_lite["fps"] / bare_lite["fps"]
    assert 0 < full_lite["latency_ms"]["median"] <= full_lite["latency_ms"]["p95"]
    # CPU per frame of the runtime's own threads: analysis (estimation) costs more than capture.
    for arm in (full, full_lite):
        cpu = arm["thread_cpu_ms"]
        assert set(cpu) == {"capture", "estimate", "analyze", "present"} and all(v > 0 for v in cpu.values())
    assert full_lite["thread_cpu_ms"]["estimate"] > full_lite["thread_cpu_ms"]["capture"]


@pytest.mark.slow
def test_bench_holistic_reports_the_added_cost_of_hands_and_face_in_one_run(media):
    clip = media / "videos" / "face_blink_headtilt_tfjs.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "arpose", "bench", "--video", str(clip), "--holistic", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["variants"]
    assert list(rows) == ["body", "hands", "face", "holistic"]
    assert rows["body"]["added_ms"] == 0.0 and rows["body"]["faces_seen"] == 0
    assert rows["face"]["faces_seen"] > 0 and rows["face"]["face_ms"] > 0
    assert rows["holistic"]["face_ms"] > 0 and rows["holistic"]["hands_ms"] > 0
    for r in rows.values():
        assert r["frames"] == rows["body"]["frames"] > 5 and 0 < r["wall_median_ms"] <= r["wall_p95_ms"]
    from arpose.app.cmd_bench import format_holistic

    table = format_holistic({"input": str(clip), "variants": rows})
    assert table.count("\n") == 6 and "added ms" in table and "holistic" in table


def test_bench_missing_video_is_a_one_line_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "arpose", "bench", "--video", str(tmp_path / "nope.mp4")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.strip().startswith("arpose: error: input not found")
