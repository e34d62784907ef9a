"""The pipelined runtime with a generic source and a counting estimator (the runtime is
independent of what the stages compute)."""
import threading
import time

import numpy as np
import pytest

from arpose.errors import InputError
from arpose.pipeline import Pipeline
from arpose.runtime import LatestSlot, LiveRuntime, RuntimeConfig
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
    assert est.thread == "arpose-analyze"
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
    stats = LiveRuntime(src, Pipeline(Echo(), sinks=[rec]), on_frame=lambda pf, im: pf.index < 5,
                        config=RuntimeConfig(drop_frames=False)).run()
    assert 5 <= stats.emitted < 100 and src.closed and rec.closed


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


def test_latest_slot_keeps_only_the_newest_item():
    slot = LatestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.get() == 4 and slot.dropped == 4
    slot.close()
    assert slot.get() is not None  # the done sentinel, not a stale item
