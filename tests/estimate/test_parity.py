"""Scoring one backend against another (arpose.estimate.parity), on hand-made pose frames."""

import numpy as np
import pytest

from arpose.estimate.parity import TARGETS, compare_frames, parity_table, time_backends
from arpose.types import Frame, Person, PoseFrame


def _pf(width, height, landmarks=None, world=None, index=0):
    frame = Frame(np.zeros((height, width, 3), np.uint8), index / 30, index)
    if landmarks is None:
        return PoseFrame(frame, ())
    return PoseFrame(frame, (Person(0, landmarks.astype(np.float32), world.astype(np.float32), 1.0),))


def _pose(dx_px=0.0, dy_px=0.0, width=640, height=480, dworld=0.0):
    lm = np.full((33, 5), 0.5)
    lm[:, 0] += dx_px / width
    lm[:, 1] += dy_px / height
    world = np.zeros((33, 3))
    world[:, 2] = dworld
    return lm, world


def test_errors_are_pixels_at_640_wide_and_metres():
    ref = [_pf(640, 480, *_pose()), _pf(320, 240, *_pose(width=320, height=240))]
    cand = [_pf(640, 480, *_pose(3, 4, dworld=0.002)), _pf(320, 240, *_pose(3, 4, 320, 240, 0.004))]
    s = compare_frames("x", ref, cand)
    assert (s.frames, s.agree, s.both) == (2, 2, 2)
    # 3-4-5 px; on the half-size frame the same pixel offset is 10 px at 640 wide
    np.testing.assert_allclose(np.unique(s.px), [5.0, 10.0], rtol=1e-5)
    assert s.px_median == pytest.approx(7.5, rel=1e-5) and s.px_max == pytest.approx(10.0, rel=1e-5)
    assert s.world_median_m == pytest.approx(0.003, rel=1e-5)
    assert not s.meets_targets()


def test_decisions_and_targets():
    ref = [_pf(640, 480, *_pose(), index=i) for i in range(99)] + [_pf(640, 480, index=99)]
    same = compare_frames("same", ref, ref)
    assert same.agreement == 1.0 and same.px_max == 0.0 and same.meets_targets()
    miss = compare_frames("miss", ref, ref[:98] + [_pf(640, 480, index=98), _pf(640, 480, *_pose(), index=99)])
    assert (miss.agree, miss.found_reference, miss.found_candidate) == (98, 99, 99)
    assert miss.agreement < TARGETS["agreement"] and not miss.meets_targets()
    table = parity_table([same, miss])
    assert "| same | 100 | 100 (100.0%)" in table and "| miss | 100 | 98 (98.0%)" in table
    with pytest.raises(ValueError, match="frames"):
        compare_frames("short", ref, ref[:3])


@pytest.mark.slow
def test_time_backends_times_every_backend_on_every_frame(media):
    from arpose.source import open_source

    frames = list(open_source(str(media / "videos" / "single_squats_5fps.mp4")))[:4]
    t = time_backends(frames, threads=(1,))
    assert set(t.ms) == set(t.cpu_ms) == {"mediapipe", "litert-1"}
    assert all(v.shape == (4,) and (v > 0).all() for v in t.ms.values())
    assert all(v.shape == (4,) and (v >= 0).all() for v in t.cpu_ms.values())
    assert t.ratio("mediapipe", "litert-1") == pytest.approx(t.median("mediapipe") / t.median("litert-1"))
