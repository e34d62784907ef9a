"""A real clip through ``arpose run VIDEO --bvh``: no bone turns further between two frames than
the bound (a dancer has no ground truth, so :data:`arpose.evaluate.retarget.REFERENCE_TURN_SPEED`
stands in for the truth's largest step). Before easing, ``single_dance_man.mp4`` had a hand turn
122 degrees in one frame and 17 steps over 45 degrees."""

import pytest

from arpose.app.cli import main
from arpose.evaluate.retarget import largest_step, step_bound
from arpose.record.bvh import local_transforms, read_bvh


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["single_dance_man.mp4", "single_dance_woman.mp4"])
def test_no_bone_step_over_the_bound_in_a_real_clips_bvh(tmp_path, media, clip):
    video = media / "videos" / clip
    out = tmp_path / "out.bvh"
    assert main(["run", str(video), "--bvh", str(out), "--no-progress"]) == 0
    data = read_bvh(out)
    _, local = local_transforms(data)
    assert data.num_frames > 40
    assert largest_step(local) <= step_bound(data.frame_time)
