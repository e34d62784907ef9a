"""``--split-minutes``: the longest real clip cut into 3-second segments run in parallel and
stitched, against the same clip unsplit. Frames before the first seam are identical; after
it, BlazePose's tracking (its region of interest carries from frame to frame) started
afresh 2 s before each seam, and the results agree within the tolerance docs/batch.md
states (measured there)."""

from __future__ import annotations

import numpy as np
import pytest

from arpose.batch.plan import SegmentLayout
from arpose.batch.tasks import stitch_frames
from arpose.errors import InputError
from arpose.record.take import Take, TakeFrame, read_take

from .conftest import job_records, no_leftovers, records, run_batch_cli

CLIP = "hands_asl_fingerspelling_tfjs.mp4"  # 13 s, 325 frames at 25 fps
NAME = CLIP[:-4]


def _differences(a: Take, b: Take, width: int, height: int) -> dict:
    px, mm, deg, mismatched, identical_until = [], [], [], 0, None
    for fa, fb in zip(a.frames, b.frames):
        assert (fa.index, fa.timestamp) == (fb.index, fb.timestamp)
        same = len(fa.people) == len(fb.people) and all(
            np.array_equal(p.landmarks, q.landmarks, equal_nan=True)
            and np.array_equal(p.world, q.world, equal_nan=True)
            for p, q in zip(fa.people, fb.people)
        )
        if not same and identical_until is None:
            identical_until = fa.index
        if len(fa.people) != len(fb.people):
            mismatched += 1
            continue
        for p, q in zip(fa.people, fb.people):
            # BlazePose's own results (before smoothing) carry the difference; the stages after
            # it are the same code on the same values.
            seen = p.raw_landmarks[:, 3] > 0.5
            px += list(
                np.linalg.norm((p.raw_landmarks[:, :2] - q.raw_landmarks[:, :2]) * [width, height], axis=1)[seen]
            )
            mm += list(1000 * np.linalg.norm(p.raw_world - q.raw_world, axis=1)[seen])
            dots = np.abs(np.sum(p.body.local_rotations * q.body.local_rotations, axis=1)).clip(0, 1)
            deg += list(np.degrees(2 * np.arccos(dots)))
    return {
        "identical_until": identical_until,
        "mismatched": mismatched,
        "px95": np.percentile(px, 95),
        "px99": np.percentile(px, 99),
        "mm95": np.percentile(mm, 95),
        "deg95": np.percentile(deg, 95),
    }


@pytest.mark.slow
def test_split_and_stitched_matches_the_unsplit_run(media, tmp_path):
    clip = media / "videos" / CLIP
    whole, split = tmp_path / "whole", tmp_path / "split"
    proc = run_batch_cli(clip, "--out", whole, "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_batch_cli(clip, "--out", split, "--no-progress", "--split-minutes", "0.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    segs = [r for r in records(split) if "segment" in r and r["status"] == "done"]
    assert sorted(r["segment"]["index"] for r in segs) == [0, 1, 2, 3, 4]
    assert [r["frames"] for r in sorted(segs, key=lambda r: r["segment"]["index"])] == [75, 75, 75, 75, 25]
    assert [r["frames"] for r in job_records(split, "done")] == [325]
    assert not (split / ".arpose-batch" / "work" / NAME).exists()  # segment takes removed once stitched
    no_leftovers(split)
    a, b = read_take(whole / NAME / f"{NAME}.take"), read_take(split / NAME / f"{NAME}.take")
    assert len(a.frames) == len(b.frames) == 325
    assert a.header["source"] == b.header["source"] and a.header["camera"] == b.header["camera"]
    # a pinned worker runs the default backend (LiteRT for one person) on one thread
    estimator = a.header["settings"]["spec"]["estimator"]
    assert estimator["backend"] == "auto" and estimator["threads"] == 1
    d = _differences(a, b, *a.resolution)
    # Frames before the first seam (75) come from a segment that starts where the unsplit run
    # starts: identical to the last bit, smoothing and retargeting included.
    assert d["identical_until"] is None or d["identical_until"] >= 75, d
    # The stated tolerance (docs/batch.md), with margin over what was measured on this clip.
    assert d["mismatched"] <= 0.05 * 325, d
    assert d["px95"] <= 3.0 and d["px99"] <= 12.0, d
    assert d["mm95"] <= 25.0, d
    assert d["deg95"] <= 5.0, d  # hidden legs of this upper-body clip flip (max 180 deg)
    # The other outputs come from the stitched estimates through the same sinks.
    assert (split / NAME / f"{NAME}.bvh").read_text().count("\n") > 325
    n_rows = (split / NAME / f"{NAME}.angles.csv").read_text().count("\n")
    assert abs(n_rows - (whole / NAME / f"{NAME}.angles.csv").read_text().count("\n")) <= d["mismatched"]


def _frames(indices):
    return [TakeFrame(i, i / 25.0, ()) for i in indices]


def test_stitching_refuses_segments_that_do_not_join():
    segs = (SegmentLayout(0, 2, 0, 3, 0), SegmentLayout(1, 2, 3, None, 1))
    takes = [Take(None, {}, _frames(range(3))), Take(None, {}, _frames(range(3, 6)))]
    assert [f.index for f in stitch_frames(takes, segs)] == list(range(6))
    with pytest.raises(InputError, match="frame 3 is missing"):
        stitch_frames([takes[0], Take(None, {}, _frames([4, 5]))], segs)
    with pytest.raises(InputError, match="outside"):
        stitch_frames([Take(None, {}, _frames(range(4))), takes[1]], segs)
