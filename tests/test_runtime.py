"""The pipelined runtime with a generic source and a counting estimator (the runtime is
independent of what the stages compute)."""

import json
import queue
import signal
import threading
import time

import numpy as np
import pytest

from arpose import runtime
from arpose.errors import InputError
from arpose.pipeline import Pipeline
from arpose.runtime import LatestSlot, LiveRuntime, RuntimeConfig, RuntimeStats
from arpose.source import Source
from arpose.types import Frame, PoseFrame


class Frames(Source):
    def __init__(self, n, fail_at_end=False, fps=100.0):
        self.n, self.fail_at_end, self.fps = n, fail_at_end, fps
        self.closed = False
        self.size = (8, 8)
        self.frame_count = n

    def __iter__(self):
        for i in range(self.n):
            yield Frame(np.zeros((8, 8, 3), np.uint8), i / self.fps, i)
        if self.fail_at_end:
            raise InputError("video is truncated")

    def close(self):
        self.closed = True


class Echo:
    """Estimator double: returns the frame with no people, after an optional delay."""

    def __init__(self, delay=0.0):
        self.delay, self.closed, self.thread = delay, False, None

    def process(self, frame):
        self.thread = threading.current_thread().name
        time.sleep(self.delay)
        return PoseFrame(frame=frame)

    def close(self):
        self.closed = True


class Recorder:
    def __init__(self, delay=0.0):
        self.indices, self.closed, self.delay = [], False, delay

    def write(self, pf, image):
        time.sleep(self.delay)
        self.indices.append(pf.index)

    def close(self):
        self.closed = True


def test_lossless_mode_emits_every_frame_in_order_on_separate_threads():
    src, est, rec = Frames(50), Echo(), Recorder()
    stats = LiveRuntime(src, Pipeline(est, sinks=[rec]), config=RuntimeConfig(drop_frames=False)).run()
    assert rec.indices == list(range(50)) and stats.emitted == 50 and stats.dropped == 0
    assert est.thread == "arpose-estimate"
    assert src.closed and rec.closed and est.closed
    assert len(stats.latencies) == 50 and all(x >= 0 for x in stats.latencies)


def test_live_mode_drops_old_frames_instead_of_falling_behind():
    src, rec = Frames(200), Recorder(delay=0.01)
    stats = LiveRuntime(src, Pipeline(Echo(), sinks=[rec]), config=RuntimeConfig(drop_frames=True)).run()
    assert stats.dropped > 0 and stats.emitted + stats.dropped == 200
    assert rec.indices == sorted(rec.indices) and len(set(rec.indices)) == len(rec.indices)
    assert rec.indices[-1] == 199  # the newest frame always gets through


def test_realtime_pacing_follows_timestamps():
    src = Frames(10, fps=50.0)  # 0.18 s of frames
    stats = LiveRuntime(src, Pipeline(Echo()), config=RuntimeConfig(drop_frames=False, realtime=True)).run()
    assert stats.emitted == 10 and stats.seconds >= 0.17


def test_stop_from_callback_ends_the_run_and_closes_everything():
    src, rec = Frames(10_000), Recorder()
    stats = LiveRuntime(
        src,
        Pipeline(Echo(), sinks=[rec]),
        on_frame=lambda pf, im: pf.index < 5,
        config=RuntimeConfig(drop_frames=False),
    ).run()
    assert 5 <= stats.emitted < 100 and src.closed and rec.closed


class Terminated(KeyboardInterrupt):
    """What the CLI's SIGTERM handler raises on the main thread."""

    signal_name = "SIGTERM"


def _interrupt_at_frame_5(send):
    def on_frame(pf, image):
        if pf.index == 5:
            send()

    return on_frame


def test_an_interrupt_on_the_calling_thread_ends_the_run_cleanly_and_names_the_signal():
    def sigterm():
        raise Terminated

    for send, name in ((lambda: signal.raise_signal(signal.SIGINT), "SIGINT"), (sigterm, "SIGTERM")):
        src, rec = Frames(10_000), Recorder()
        stats = LiveRuntime(
            src, Pipeline(Echo(), sinks=[rec]), _interrupt_at_frame_5(send), RuntimeConfig(drop_frames=False)
        ).run()
        assert stats.interrupted == name and stats.emitted == 6 and src.closed and rec.closed
    stats = LiveRuntime(Frames(3), Pipeline(Echo()), config=RuntimeConfig(drop_frames=False)).run()
    assert stats.interrupted is None and stats.emitted == 3


def test_source_error_is_reported_after_every_frame_before_it_is_emitted():
    src, rec = Frames(20, fail_at_end=True), Recorder()
    stats = LiveRuntime(src, Pipeline(Echo(), sinks=[rec]), config=RuntimeConfig(drop_frames=False)).run()
    assert rec.indices == list(range(20))
    assert isinstance(stats.error, InputError) and rec.closed


def test_stage_failure_propagates_and_still_closes_sinks():
    class Boom(Echo):
        def process(self, frame):
            if frame.index == 3:
                raise RuntimeError("stage failed")
            return super().process(frame)

    rec = Recorder()
    with pytest.raises(RuntimeError, match="stage failed"):
        LiveRuntime(Frames(20), Pipeline(Boom(), sinks=[rec]), config=RuntimeConfig(drop_frames=False)).run()
    assert rec.closed and rec.indices == [0, 1, 2]


class ThreadLog:
    """Sink that logs (event, frame index, thread name, got an image)."""

    def __init__(self, log, needs_image=False):
        self.log, self.needs_image, self.closed = log, needs_image, False

    def write(self, pf, image):
        self.log.append(
            (
                "image sink" if self.needs_image else "data sink",
                pf.index,
                threading.current_thread().name,
                image is not None,
            )
        )

    def close(self):
        self.closed = True


def test_data_outputs_leave_on_the_analysing_thread_before_rendering():
    """VMC/takes (data sinks) go out as soon as the pose is known, never waiting for the
    renderer; the video (image sink) gets the rendered image afterwards."""
    log = []

    def render(pf, fps):
        log.append(("render", pf.index, threading.current_thread().name, True))
        return np.zeros((8, 8, 3), np.uint8)

    data, video = ThreadLog(log), ThreadLog(log, needs_image=True)
    stats = LiveRuntime(
        Frames(10), Pipeline(Echo(), renderer=render, sinks=[video, data]), config=RuntimeConfig(drop_frames=False)
    ).run()
    assert stats.emitted == 10 and len(stats.latencies) == len(stats.display_latencies) == 10
    for i in range(10):
        events = [e for e in log if e[1] == i]
        assert [e[0] for e in events] == ["data sink", "render", "image sink"]
        assert events[0][2] == "arpose-analyze" and events[0][3] is False
        assert events[2][3] is True and events[1][2] == events[2][2] != "arpose-analyze"
    assert np.median(stats.latencies) <= np.median(stats.display_latencies)
    assert data.closed and video.closed


def test_a_slow_view_drops_frames_but_the_data_outputs_get_every_analysed_one():
    log = []

    def slow_render(pf, fps):
        time.sleep(0.02)
        return np.zeros((8, 8, 3), np.uint8)

    data = ThreadLog(log)
    stats = LiveRuntime(
        Frames(100, fps=1000.0),
        Pipeline(Echo(delay=0.002), renderer=slow_render, sinks=[data]),
        config=RuntimeConfig(drop_frames=True, realtime=True),
    ).run()
    sent = [e[1] for e in log]
    assert stats.emitted < stats.analyzed == len(sent) and sent == sorted(set(sent))
    assert len(stats.latencies) == stats.analyzed and len(stats.display_latencies) == stats.emitted


def test_emit_publishes_then_presents_on_one_thread():
    log = []
    pipeline = Pipeline(
        None,
        renderer=lambda pf, fps: log.append(("render", pf.index)) or np.zeros((2, 2, 3)),
        sinks=[ThreadLog(log, needs_image=True), ThreadLog(log)],
    )
    image = pipeline.emit(PoseFrame(frame=Frame(np.zeros((2, 2, 3), np.uint8), 0.0, 7)))
    assert image.shape == (2, 2, 3)
    assert [e[0] for e in log] == ["data sink", "render", "image sink"]
    assert {"render", "output", "video"} <= set(pipeline.timer.summary())


def test_latest_slot_keeps_only_the_newest_item():
    slot = LatestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.get(timeout=0) == 4 and slot.dropped == 4
    with pytest.raises(queue.Empty):  # the four older items are gone, not queued behind the newest
        slot.get(timeout=0)
    slot.put(5)
    slot.put(6)
    slot.close()
    assert slot.get(timeout=0) == 6 and slot.dropped == 5  # an unread item outlives close
    assert slot.get(timeout=0) is runtime._DONE  # then the done sentinel, never a stale item
    assert slot.get(timeout=0) is runtime._DONE and slot.dropped == 5


def test_latest_slot_wakes_a_waiting_reader_with_the_item_put():
    slot, got = LatestSlot(), []
    reader = threading.Thread(target=lambda: got.append(slot.get(timeout=10)))
    reader.start()
    slot.put("frame 7")
    reader.join(10)
    assert got == ["frame 7"] and slot.dropped == 0


def test_summary_fps_counts_like_the_hud():
    """The summary's rate is frames per second from the first presented frame on (what the
    live HUD's meter shows), not diluted by start-up: 10 frames 0.1 s apart after a 2 s
    model load is 10 fps, where the whole-run figure says 3.3."""
    from arpose.pipeline import RateMeter
    from arpose.runtime import RuntimeStats

    st = RuntimeStats(emitted=10, seconds=3.0, first_emit=102.0, last_emit=102.9)
    assert st.steady_fps == pytest.approx(10.0) and st.fps == pytest.approx(10 / 3)
    hud = RateMeter(alpha=0.5)
    for k in range(10):
        hud.tick(102.0 + 0.1 * k)
    assert hud.fps == pytest.approx(st.steady_fps)
    assert np.isnan(RuntimeStats(emitted=1, first_emit=1.0, last_emit=1.0).steady_fps)


def test_blas_is_held_to_one_thread_for_the_run_and_restored_after():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})

    before = blas_threads()
    seen = {}

    class Probe(Echo):
        def process(self, frame):
            seen.setdefault("analyze", blas_threads())
            return super().process(frame)

    def on_frame(pf, image):
        seen.setdefault("present", blas_threads())

    LiveRuntime(Frames(3), Pipeline(Probe()), on_frame=on_frame, config=RuntimeConfig(drop_frames=False)).run()
    if not before:
        pytest.skip("no BLAS library loaded")
    assert seen == {"analyze": [1], "present": [1]}
    assert blas_threads() == before
    seen.clear()
    LiveRuntime(
        Frames(2), Pipeline(Probe()), on_frame=on_frame, config=RuntimeConfig(drop_frames=False, blas_threads=None)
    ).run()
    assert seen == {"analyze": before, "present": before}


def test_cpu_time_per_thread_is_counted_where_the_work_is():
    class Busy(Echo):
        def process(self, frame):
            t0 = time.thread_time()
            while time.thread_time() - t0 < 0.01:  # 10 ms of CPU on the analysing thread
                pass
            return PoseFrame(frame=frame)

    st = LiveRuntime(Frames(10), Pipeline(Busy()), config=RuntimeConfig(drop_frames=False)).run()
    assert set(st.cpu_seconds) == {"capture", "estimate", "analyze", "present"}
    assert 10.0 <= st.cpu_ms_per_frame("estimate") < 30.0 and st.cpu_ms_per_frame("analyze") < 5.0
    assert st.cpu_ms_per_frame("present") < 5.0 and st.cpu_ms_per_frame("capture") < 5.0
    assert np.isnan(RuntimeStats().cpu_ms_per_frame("analyze"))


@pytest.mark.slow
def test_overlapped_runtime_sends_the_same_bytes_as_one_thread(media, tmp_path):
    """A real clip through the full pipeline (LiteRT, smoothing, retargeting, props, VMC, raw
    OSC, a take) on the three-thread runtime and frame by frame on one thread: every frame in
    order, byte-identical datagrams and take (the rendered images differ only by the HUD's
    measured rate, so they are not compared)."""
    import socket
    from dataclasses import replace

    from arpose.app.cmd_bench import full_spec
    from arpose.build import build_pipeline, camera_for, make_renderer
    from arpose.source import open_source
    from arpose.spec import RunningMode

    clip = str(media / "videos" / "single_dance_woman.mp4")

    def run(threaded: bool, folder):
        folder.mkdir()
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 23)
            s.settimeout(0.2)
        spec = full_spec(str(folder), *(s.getsockname()[1] for s in socks))
        spec = replace(spec, estimator=replace(spec.estimator, mode=RunningMode.VIDEO, backend="litert", threads=1))
        source = open_source(clip)
        camera = camera_for(spec, source)
        pipeline = build_pipeline(spec, source, camera, renderer=make_renderer(spec, camera))
        images, indices = [], []

        def keep(pf, image):
            indices.append(pf.index)
            images.append(image)

        if threaded:
            LiveRuntime(source, pipeline, on_frame=keep, config=RuntimeConfig(drop_frames=False)).run()
        else:
            with pipeline:
                for frame in source:
                    pf = pipeline.analyze(frame)
                    keep(pf, pipeline.emit(pf))
            source.close()
        grams = []
        for s in socks:
            got = []
            try:
                while True:
                    got.append(s.recv(65536))
            except socket.timeout:
                pass
            s.close()
            grams.append(got)
        take = (folder / "bench.take").read_bytes()
        magic, header, records = take.split(b"\n", 2)
        # The header's date and settings (the take's own path) differ, so its line checksum
        # does; every record must be byte-identical.
        header = {k: v for k, v in json.loads(header[9:]).items() if k not in ("created_utc", "settings")}
        return indices, images, grams, (magic, header, records)

    serial = run(False, tmp_path / "serial")
    overlapped = run(True, tmp_path / "overlapped")
    assert serial[0] == overlapped[0] == list(range(42))
    assert all(im is not None and im.shape == (244, 400, 3) for im in serial[1] + overlapped[1])
    assert [len(g) for g in serial[2]] == [len(g) for g in overlapped[2]] and all(serial[2])
    assert serial[2] == overlapped[2]
    assert serial[3] == overlapped[3] and serial[3][2].count(b"\n") >= 42
