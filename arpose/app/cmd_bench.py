"""``arpose bench``: the same frames through (a) a bare MediaPipe loop and (b) the full arpose
pipeline, in one run, each arm in its own fresh process (so peak memory is its own).

Reported per arm: per-stage times (median, p95), throughput (fps, lossless, as fast as
possible), end-to-end latency in a live-paced run at the source's frame rate (frame captured ->
VMC packet and take record out; and frame captured -> rendered image with props handed on),
peak RSS, and RSS growth over the run; then the ratio of (b) to (a) and how much the
non-rendering stages (smoothing, retargeting, every data output) add to the bare loop: as the
sum of their median times, and measured directly by (c), the full pipeline without rendering
run on the same frames (its capture thread overlaps decoding, which the bare loop cannot).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ..spec import PipelineSpec
from ..sysinfo import peak_rss_mb, rss_mb


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark the full pipeline against a bare MediaPipe loop",
        description="Run the same frames through a bare MediaPipe loop and through the full arpose pipeline "
        "(smoothing, retargeting, props, VMC, take) and report per-stage times, throughput, latency, memory.",
    )
    p.add_argument("--video", metavar="FILE", help="a real clip to benchmark (default: the synthetic performer)")
    p.add_argument("--seconds", type=float, default=6.0, help="length of the performer clip (default 6)")
    p.add_argument("--motion", default="wave", help="performer motion (default wave)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--litert-threads",
        type=int,
        default=0,
        metavar="N",
        help="LiteRT threads per model for the litert arms (default 0: as a run chooses, 2 for the bare loop, "
        "1 for the full pipeline with props)",
    )
    p.add_argument(
        "--holistic",
        action="store_true",
        help="instead: the per-frame cost added by --hands, --face and --holistic over the body-only analysis, "
        "all measured in one run on the same frames (arpose.evaluate.hands_face_cost)",
    )
    p.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="instead: run the full pipeline live-paced for MINUTES on the clip played in a loop and report "
        "RSS growth per minute (bounded memory check)",
    )
    p.add_argument(
        "--batch",
        nargs="*",
        metavar="INPUT",
        help="instead: arpose batch throughput (videos and frames per second) with 1 and 2 workers on the process "
        "pool and on Ray, per-job overhead and a 100-node projection; INPUTs are videos, folders or globs "
        "(default: four synthetic performer clips of --seconds)",
    )
    p.set_defaults(func=run)


def _stats_ms(xs) -> dict:
    a = np.asarray(xs, dtype=np.float64) * 1000.0
    return {"median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95)), "n": int(a.size)}


def _stage_table(stages: dict) -> dict:
    """The pipeline timer's summary reduced to what the report shows: median, p95 (ms), count."""
    return {k: {"median_ms": v["median_ms"], "p95_ms": v["p95_ms"], "n": v["n"]} for k, v in stages.items()}


def _time_bare_loop(cap, process) -> dict:
    """Decode every frame of ``cap`` (an open ``cv2.VideoCapture``) and ``process(image, index)``
    it; the first frame (start-up, warm-up) is processed but not timed. Per-stage times, fps,
    memory."""
    ok, image = cap.read()
    if ok:
        process(image, 0)
    n = 1 if ok else 0
    decode, work = [], []
    rss0 = rss_mb()
    t_start = time.perf_counter()
    while ok:
        t0 = time.perf_counter()
        ok, image = cap.read()
        t1 = time.perf_counter()
        if not ok:
            break
        process(image, n)
        decode.append(t1 - t0)
        work.append(time.perf_counter() - t1)
        n += 1
    seconds = time.perf_counter() - t_start
    return {
        "frames": n,
        "fps": len(work) / seconds if seconds > 0 else float("nan"),
        "stages": {"decode": _stats_ms(decode), "estimate": _stats_ms(work)},
        "frame_ms": _stats_ms(np.add(decode, work)),
        "peak_rss_mb": peak_rss_mb(),
        "rss_growth_mb": rss_mb() - rss0,
    }


def arm_bare(video: str) -> dict:
    """(a): decode with OpenCV, BlazePose Full through MediaPipe, nothing else. The first
    frame (graph start-up, and MediaPipe's one-off logging, silenced) is not timed."""
    import mediapipe as mp

    from .._cv import cv2
    from ..estimate.blazepose import _quiet_native_stderr

    cap = cv2.VideoCapture(video)
    with _quiet_native_stderr():
        pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=False)
    first = [True]

    def process(image, index):
        if first[0]:  # MediaPipe logs once on its first frame
            first[0] = False
            with _quiet_native_stderr():
                pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        else:
            pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

    try:
        return _time_bare_loop(cap, process)
    finally:
        pose.close()


def arm_bare_litert(video: str, threads: int = 0) -> dict:
    """(a'): decode with OpenCV, BlazePose's own pipeline on LiteRT (the litert backend),
    nothing else; the same frames and timing as (a). threads 0: as a run without props
    chooses (:attr:`arpose.spec.PipelineSpec.litert_threads`, 2)."""
    from .._cv import cv2
    from ..estimate import EstimatorConfig
    from ..estimate.litert import LiteRTOptions, LiteRTPoseEstimator
    from ..types import Frame

    threads = threads or PipelineSpec().litert_threads
    cap = cv2.VideoCapture(video)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    est = LiteRTPoseEstimator(EstimatorConfig(tracking=True), LiteRTOptions(threads=threads))
    try:
        return {"threads": threads, **_time_bare_loop(cap, lambda image, i: est.process(Frame(image, i / fps, i)))}
    finally:
        est.close()


def full_spec(tmp: str, port: int, port2: int, render: bool = True) -> PipelineSpec:
    """The full pipeline bench measures: smoothing, retargeting, crown + glasses props with
    occlusion, VMC and raw OSC to local ports, a take (in ``tmp``). ``render`` False: the same
    without props (and so without an image to render)."""
    from ..spec import OscOutput, OverlaySpec, TakeOutput, VmcOutput

    spec = PipelineSpec(
        outputs=(
            VmcOutput("127.0.0.1", port),
            OscOutput("127.0.0.1", port2),
            TakeOutput(str(Path(tmp) / "bench.take")),
        )
    )
    if render:
        spec = replace(spec, overlay=OverlaySpec(props=("crown", "glasses")))
    return spec


def _features(spec: PipelineSpec) -> list[str]:
    names = [o.kind for o in spec.outputs]
    if spec.overlay.props:
        names.insert(0, "props")
    if spec.smoothing:
        names.insert(0, "smooth")
    return names


def _run_full(
    video: str, realtime: bool, render: bool = True, on_rss=None, backend: str = "mediapipe", threads: int = 0
) -> tuple[dict, list[str], dict]:
    import socket

    from ..build import build_pipeline, make_renderer
    from ..runtime import LiveRuntime, RuntimeConfig
    from ..source import open_source
    from ..spec import RunningMode

    with tempfile.TemporaryDirectory() as tmp:
        # Local UDP receivers so OSC/VMC packets really leave the process.
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        ports = [s.getsockname()[1] for s in socks]
        spec = full_spec(tmp, *ports, render=render)
        source = open_source(video)
        mode = RunningMode.LIVE if realtime else RunningMode.VIDEO
        spec = replace(spec, estimator=replace(spec.estimator, mode=mode, backend=backend, threads=threads))
        # The view is what a window would show: props (when rendering) under the skeleton and HUD.
        from ..build import camera_for

        camera = camera_for(spec, source)
        renderer = make_renderer(spec, camera) if render else None
        pipeline = build_pipeline(spec, source, camera, renderer=renderer)
        rss: list[float] = []
        props_ms: list[float] = []
        prop_stats = getattr(getattr(pipeline.renderer, "props", None), "stats", None)

        def on_frame(pf, image) -> None:
            rss.append(rss_mb())
            if on_rss is not None:
                on_rss(rss[-1])
            if prop_stats is not None and pf.people:
                props_ms.append(prop_stats.ms / 1000.0)

        runtime = LiveRuntime(
            source, pipeline, on_frame=on_frame, config=RuntimeConfig(drop_frames=realtime, realtime=realtime)
        )
        stats = runtime.run()
        for s in socks:
            s.close()
        timings = pipeline.timer.summary()
        if props_ms:  # the props' share of "render": posing, rendering and compositing them
            timings["props"] = _stats_ms(props_ms)
        run = {"stats": stats, "rss": rss, "threads": spec.litert_threads if backend == "litert" else None}
        return (run, _features(spec), timings)


def arm_full(video: str, backend: str = "mediapipe", threads: int = 0) -> dict:
    """(b): the full arpose pipeline, once lossless as fast as possible (throughput, stage
    times), once paced like a live camera at the source rate (latency, drops)."""
    fast, features, stages = _run_full(video, realtime=False, backend=backend, threads=threads)
    live, _, _ = _run_full(video, realtime=True, backend=backend, threads=threads)
    st, lv = fast["stats"], live["stats"]
    rss = fast["rss"]
    # Growth after warm-up (renderer buffers, caches): the last tenth of the run against the
    # sixth tenth. A leak shows as growth that goes on; run --seconds 30 or more to see it.
    k = max(1, len(rss) // 10)
    growth = float(np.mean(rss[-k:]) - np.mean(rss[5 * k : 6 * k])) if len(rss) >= 20 else float("nan")
    return {
        "frames": st.emitted,
        "threads": fast["threads"],
        "features": features,
        "fps": st.fps,
        "stages": _stage_table(stages),
        "thread_cpu_ms": {k: st.cpu_ms_per_frame(k) for k in ("capture", "estimate", "analyze", "present")},
        "live_fps": lv.fps,
        "live_dropped": lv.dropped,
        "latency_ms": {"median": lv.latency_ms(50), "p95": lv.latency_ms(95)},
        "display_latency_ms": {"median": lv.display_latency_ms(50), "p95": lv.display_latency_ms(95)},
        "peak_rss_mb": peak_rss_mb(),
        "rss_growth_mb": growth,
    }


def arm_analysis(video: str) -> dict:
    """(c): the full pipeline without rendering (smoothing, retargeting, VMC, OSC, take; no
    props, no image), lossless as fast as possible: its frame time against (a)'s is what the
    non-rendering stages really add, contention and thread hand-offs included."""
    fast, features, stages = _run_full(video, realtime=False, render=False)
    st = fast["stats"]
    return {
        "frames": st.emitted,
        "threads": fast["threads"],
        "features": features,
        "fps": st.fps,
        "stages": _stage_table(stages),
        "peak_rss_mb": peak_rss_mb(),
    }


def _performer_video(path: Path, seconds: float, motion: str) -> None:
    """Render the synthetic performer (640x480, 30 fps) once into a video file, so both arms
    decode the very same frames and neither pays for rendering the performer."""
    from ..performer import PerformerSource
    from ..record import VideoWriter

    source = PerformerSource(motion, seconds=seconds)
    with VideoWriter(path, source.fps, source.size) as writer:
        for frame in source:
            writer.write(frame.image)


def bench(video: str, litert_threads: int = 0) -> dict:
    ctx = get_context("spawn")
    results = {}
    arms = (
        ("bare", arm_bare, ()),
        ("bare_litert", arm_bare_litert, (litert_threads,)),
        ("analysis", arm_analysis, ()),
        ("full", arm_full, ()),
        ("full_litert", arm_full, ("litert", litert_threads)),
    )
    for name, fn, extra in arms:
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            results[name] = pool.submit(fn, video, *extra).result()
    results["ratio_litert_bare_over_mediapipe_bare"] = results["bare_litert"]["fps"] / results["bare"]["fps"]
    results["ratio_full_litert_over_bare_litert"] = results["full_litert"]["fps"] / results["bare_litert"]["fps"]
    bare, full = results["bare"], results["full"]
    bare_ms = bare["frame_ms"]["median_ms"]
    non_render = sum(
        v["median_ms"] for k, v in full["stages"].items() if k not in ("estimate", "render", "props", "video")
    )
    results["ratio_fps_full_over_bare"] = full["fps"] / bare["fps"]
    results["non_rendering_overhead_pct"] = 100.0 * non_render / bare_ms
    # Measured directly: the no-render arm's frame time (1 / fps) against the bare loop's.
    results["analysis_overhead_pct"] = 100.0 * (bare["fps"] / results["analysis"]["fps"] - 1.0)
    results["cpu_count"] = os.cpu_count()
    return results


def format_table(res: dict) -> str:
    bare, full = res["bare"], res["full"]
    lines = [
        f"input: {res['input']} ({bare['frames']} frames)",
        f"full pipeline features: {', '.join(full['features']) or 'none'}",
        "arms bare, analysis, full: MediaPipe's graph (--backend mediapipe); bare_litert, full_litert: "
        "LiteRT, the default backend",
        "",
        f"{'stage':<12}{'median ms':>11}{'p95 ms':>9}",
    ]
    for arm in ("bare", "bare_litert", "analysis", "full", "full_litert"):
        lines.append(f"[{arm}]")
        for k, v in res[arm]["stages"].items():
            lines.append(f"  {k:<10}{v['median_ms']:>11.2f}{v['p95_ms']:>9.2f}")
    lines += [
        "",
        f"throughput on MediaPipe's graph: bare {bare['fps']:.1f} fps, full {full['fps']:.1f} fps (ratio {res['ratio_fps_full_over_bare']:.2f})",
        f"non-rendering stages add {res['non_rendering_overhead_pct']:.1f}% to the bare loop's frame time "
        f"(sum of their medians); without rendering the pipeline runs at {res['analysis']['fps']:.1f} fps, "
        f"{res['analysis_overhead_pct']:+.1f}% frame time against the bare loop",
        f"live-paced full pipeline on MediaPipe's graph: {full['live_fps']:.1f} fps, {full['live_dropped']} frames dropped, "
        f"latency to the VMC packet median {full['latency_ms']['median']:.1f} ms, p95 {full['latency_ms']['p95']:.1f} ms; "
        f"to the rendered view median {full['display_latency_ms']['median']:.1f} ms, "
        f"p95 {full['display_latency_ms']['p95']:.1f} ms",
        f"peak RSS: bare {bare['peak_rss_mb']:.0f} MB, full {full['peak_rss_mb']:.0f} MB; "
        f"RSS growth over the second half of the full run {full['rss_growth_mb']:+.1f} MB",
        "",
        f"litert backend (the default; {res['bare_litert']['threads']} threads): bare {res['bare_litert']['fps']:.1f} fps, "
        f"{res['ratio_litert_bare_over_mediapipe_bare']:.2f}x MediaPipe's bare loop; full pipeline "
        f"{res['full_litert']['fps']:.1f} fps on {res['full_litert']['threads']} thread(s) "
        f"({res['ratio_full_litert_over_bare_litert']:.2f}x its bare loop); "
        f"live-paced latency to the VMC packet median {res['full_litert']['latency_ms']['median']:.1f} ms, "
        f"p95 {res['full_litert']['latency_ms']['p95']:.1f} ms",
    ]
    for arm in ("full", "full_litert"):
        cpu = res[arm].get("thread_cpu_ms")
        if cpu:
            lines.append(
                f"{arm}: CPU per frame of the runtime's threads: capture {cpu['capture']:.1f} ms, estimate "
                f"{cpu['estimate']:.1f} ms, stages + outputs {cpu['analyze']:.1f} ms, render {cpu['present']:.1f} ms "
                "(each thread's own CPU, not the native workers it wakes)"
            )
    return "\n".join(lines)


def _holistic_arm(video: str, frames: int) -> dict:
    from ..evaluate.hands_face_cost import measure

    return measure(video, frames)


def holistic(video: str, frames: int = 150) -> dict:
    """``bench --holistic``: body only, ``--hands``, ``--face`` and ``--holistic`` on the same
    frames in one run (one fresh process, :func:`arpose.evaluate.hands_face_cost.measure`)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        rows = pool.submit(_holistic_arm, video, frames).result()
    return {"variants": rows, "cpu_count": os.cpu_count()}


def format_holistic(res: dict) -> str:
    rows = res["variants"]
    lines = [
        f"input: {res['input']}: analysis only (estimation, smoothing, retargeting, hands/face; no outputs; "
        "body on the default backend, LiteRT)",
        "",
        f"{'variant':<10}{'median ms':>11}{'p95 ms':>9}{'cpu ms':>9}{'added ms':>10}{'hands ms':>10}{'face ms':>9}"
        f"{'live fps':>10}{'frames':>8}",
    ]
    for name, r in rows.items():
        lines.append(
            f"{name:<10}{r['wall_median_ms']:>11.2f}{r['wall_p95_ms']:>9.2f}{r['cpu_median_ms']:>9.2f}"
            f"{r.get('added_ms', float('nan')):>+10.2f}{r['hands_ms']:>10.2f}{r['face_ms']:>9.2f}"
            f"{r['live_fps']:>10.1f}{r['frames']:>8}"
        )
    return "\n".join(lines)


def soak(video: str, minutes: float) -> dict:
    """The full pipeline, live-paced, for ``minutes``: RSS sampled every frame; growth per
    minute is the slope of a line fitted to RSS over the run after its first minute (buffers
    and caches settle in the first seconds)."""
    from ..build import build_pipeline, camera_for, make_renderer
    from ..runtime import LiveRuntime, RuntimeConfig
    from ..spec import RunningMode

    with tempfile.TemporaryDirectory() as tmp:
        import socket

        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        spec = full_spec(tmp, *(s.getsockname()[1] for s in socks))
        spec = replace(spec, estimator=replace(spec.estimator, mode=RunningMode.LIVE))
        from ..source import LoopSource, open_source

        first = open_source(video)
        fps = first.fps
        first.close()
        source = LoopSource(lambda: open_source(video), frame_count=int(minutes * 60.0 * fps))
        camera = camera_for(spec, source)
        pipeline = build_pipeline(spec, source, camera, renderer=make_renderer(spec, camera))
        t0 = time.perf_counter()
        # One RSS sample a second at most (preallocated), so the measurement adds no growth of its own.
        samples = np.full((int(minutes * 60) + 2, 2), np.nan)
        taken = [0]

        def on_frame(pf, image) -> None:
            now = time.perf_counter() - t0
            k = taken[0]
            if k < len(samples) and (k == 0 or now - samples[k - 1, 0] >= 1.0):
                samples[k] = (now, rss_mb())
                taken[0] = k + 1

        stats = LiveRuntime(source, pipeline, on_frame=on_frame, config=RuntimeConfig(True, True)).run()
        for s in socks:
            s.close()
    t, rss = samples[: taken[0]].T
    keep = t > min(60.0, 0.2 * (t[-1] if t.size else 0.0))
    slope = float(np.polyfit(t[keep] / 60.0, rss[keep], 1)[0]) if keep.sum() > 3 else float("nan")
    return {
        "minutes": minutes,
        "frames": stats.emitted,
        "fps": stats.fps,
        "dropped": stats.dropped,
        "rss_start_mb": float(rss[0]) if rss.size else float("nan"),
        "rss_end_mb": float(rss[-1]) if rss.size else float("nan"),
        "rss_growth_mb_per_min": slope,
        "peak_rss_mb": peak_rss_mb(),
        "latency_ms": {"median": stats.latency_ms(50), "p95": stats.latency_ms(95)},
    }


def run(args: argparse.Namespace) -> int:
    if args.batch is not None:
        return run_batch_bench(args)
    if args.soak is not None and not (args.soak > 0):
        from ..errors import ConfigError

        raise ConfigError(f"--soak wants a number of minutes > 0, got {args.soak}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.video:
            video = args.video
            from ..source import VideoSource

            VideoSource(video).close()  # a missing, empty or undecodable file is a one-line error
        else:
            video = str(Path(tmp) / "performer.avi")
            _performer_video(Path(video), args.seconds, args.motion)
        label = args.video or f"synthetic performer ({args.motion}, {args.seconds:g} s, 640x480)"
        if args.holistic:
            res = holistic(video)
            res["input"] = label
            print(json.dumps(res, indent=2) if args.json else format_holistic(res))
            return 0
        if args.soak is not None:
            res = soak(video, args.soak)
            res["input"] = label + " (looped)"
            if args.json:
                print(json.dumps(res, indent=2))
            else:
                print(
                    f"soak (default backend, LiteRT): {res['minutes']:g} min live-paced on {res['input']}: "
                    f"{res['frames']} frames at "
                    f"{res['fps']:.1f} fps, {res['dropped']} dropped; RSS {res['rss_start_mb']:.0f} -> "
                    f"{res['rss_end_mb']:.0f} MB, growth {res['rss_growth_mb_per_min']:+.2f} MB/min after the first "
                    f"minute; peak {res['peak_rss_mb']:.0f} MB; latency to VMC median {res['latency_ms']['median']:.1f} "
                    f"ms, p95 {res['latency_ms']['p95']:.1f} ms"
                )
            return 0
        res = bench(video, litert_threads=args.litert_threads)
        res["input"] = label
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(format_table(res))
    return 0


# ---------------------------------------------------------------------------- --batch


def run_batch_bench(args: argparse.Namespace) -> int:
    """``bench --batch``: the same videos through the pool and Ray with 1 and 2 workers."""
    from ..batch.backends import PoolBackend, RayBackend
    from ..batch.bench import measure, project

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = list(args.batch)
        if not inputs:
            for motion in ("wave", "squat", "walk", "jumping_jack"):
                _performer_video(Path(tmp) / f"{motion}.avi", args.seconds, motion)
            inputs = [tmp]
        for workers in (1, 2):
            runs.append(measure(inputs, PoolBackend(workers), "pool"))
        try:
            import ray  # noqa: F401

            for workers in (1, 2):
                runs.append(measure(inputs, RayBackend(None, workers=workers), "ray"))
        except ImportError:
            pass
    res = {"inputs": args.batch or f"4 synthetic performer clips of {args.seconds:g} s", "runs": runs}
    for name in ("pool", "ray"):
        one = next((r for r in runs if r["backend"] == name and r["workers"] == 1), None)
        two = next((r for r in runs if r["backend"] == name and r["workers"] == 2), None)
        if one and two:
            res[f"{name}_speedup_2_over_1"] = two["fps"] / one["fps"]
    # The cluster projection from a full node's figures: Ray (else the pool) with 2 workers.
    best = max(runs, key=lambda r: (r["backend"] == "ray", r["workers"]))
    res["projection"] = [project(best, video_frames=n) for n in (300, 1800, 18000)]
    res["cpu_count"] = os.cpu_count()
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(format_batch(res))
    return 0


def format_batch(res: dict) -> str:
    lines = [
        f"batch throughput on {res['inputs']} ({res['cpu_count']} CPUs)",
        "",
        f"{'backend':<8}{'workers':>8}{'videos':>8}{'frames':>8}{'busy s':>9}{'videos/s':>10}{'fps':>8}"
        f"{'ms/frame':>10}{'job overhead s':>16}{'handoff s':>11}{'wall s':>8}",
    ]
    for r in res["runs"]:
        lines.append(
            f"{r['backend']:<8}{r['workers']:>8}{r['videos']:>8}{r['frames']:>8}{r['busy_seconds']:>9.1f}"
            f"{r['videos_per_s']:>10.3f}{r['fps']:>8.1f}{r['frame_ms']:>10.1f}{r['job_overhead_in_worker_s']:>16.2f}"
            f"{r['job_overhead_handoff_s']:>11.3f}{r['seconds']:>8.1f}"
        )
    lines.append("")
    for name in ("pool", "ray"):
        if f"{name}_speedup_2_over_1" in res:
            lines.append(f"{name}: 2 workers give {res[f'{name}_speedup_2_over_1']:.2f}x the frames per second of 1")
    r0 = res["runs"][0]
    lines.append(
        f"worker threads at the end of a job: {r0['worker_threads']}; pinned: {r0['pinned']}; "
        f"coordinator CPU {r0['coordinator_cpu_per_job_ms']:.1f} ms per job"
    )
    for p in res["projection"]:
        lines.append(
            f"projection, {p['nodes']} nodes x {p['cores_per_node']} workers, {p['video_frames']}-frame videos: "
            f"{p['job_seconds']:.1f} s a job ({100 * p['overhead_share']:.1f}% overhead), "
            f"{p['videos_per_s']:.1f} videos/s, {p['fps']:.0f} fps (limited by the {p['limit']}; one coordinator "
            f"hands out up to {p['coordinator_jobs_per_s']:.0f} jobs/s)"
        )
    return "\n".join(lines)
