"""BVH reader: real CMU files (two rigs, ZYX and ZXY channel orders), analytic FK, bad files."""

from __future__ import annotations

import re

import numpy as np
import pytest

from arpose.errors import InputError
from arpose.record.bvh import bvh_fk, end_site_positions, parse_bvh, read_bvh

# file -> (frames, frame time, channels, joints, root) from each file's header / SOURCES.md
CMU = {
    "cmu_01_01_forward_jumps_30fps.bvh": (600, 0.0333332, 96, 31, "Hips"),
    "cmu_12_03_walk_120fps.bvh": (566, 0.0083333, 96, 31, "Hips"),
    "cmu_131_01_walk_mjstyle_60fps.bvh": (497, 0.0166666, 96, 31, "Hips"),
    "cmu_131_03_hop_mjstyle_60fps.bvh": (551, 0.0166666, 96, 31, "Hips"),
    "cmu_05_02_dance_pirouette_ccrig_60fps.bvh": (562, 0.016667, 303, 100, "CC_Base_Hip"),
    "cmu_02_05_punch_strike_ccrig_30fps.bvh": (464, 0.033334, 303, 100, "CC_Base_Hip"),
}


@pytest.mark.parametrize("name", sorted(CMU))
def test_cmu_files_parse_with_header_counts(media, name):
    frames, ft, channels, joints, root = CMU[name]
    data = read_bvh(media / "bvh" / name)
    text = (media / "bvh" / name).read_text()
    assert data.num_frames == frames == int(re.search(r"Frames:\s*(\d+)", text).group(1))
    assert data.frame_time == pytest.approx(ft)
    assert data.num_channels == channels
    assert len(data.joints) == joints
    assert data.joints[0].name == root and data.joints[0].parent == -1
    assert len(data.joints[0].channels) == 6
    assert all(j.parent < i for i, j in enumerate(data.joints))
    # The last motion line of the file is the last row, in file order.
    last = [float(v) for v in text.strip().splitlines()[-1].split()]
    np.testing.assert_allclose(data.motion[-1], last)


def test_mixed_channel_orders_are_read_per_joint(media):
    data = read_bvh(media / "bvh" / "cmu_131_01_walk_mjstyle_60fps.bvh")
    orders = {j.rotation_order for j in data.joints}
    assert orders == {"ZXY", "ZYX"}


@pytest.mark.parametrize("name", sorted(CMU))
def test_fk_frame0_is_sane(media, name):
    data = read_bvh(media / "bvh" / name)
    pos, rot = bvh_fk(data)
    f, j = data.num_frames, len(data.joints)
    assert pos.shape == (f, j, 3) and rot.shape == (f, j, 4)
    assert np.all(np.isfinite(pos)) and np.allclose(np.linalg.norm(rot, axis=-1), 1.0)
    # Bone lengths are the offsets' lengths in every frame (rigid bones).
    parents = data.parents
    for k in range(1, j):
        length = np.linalg.norm(pos[:, k] - pos[:, parents[k]], axis=-1)
        np.testing.assert_allclose(length, np.linalg.norm(data.joints[k].offset), atol=1e-6)
    # Frame 0 stands upright: the head is the highest joint region, the feet the lowest, and the
    # body is taller (Y) than it is wide.
    p0 = pos[0]
    names = [n.lower() for n in data.names]
    head = next(i for i, n in enumerate(names) if "head" in n)
    foot = [i for i, n in enumerate(names) if "foot" in n or "ankle" in n]
    height = np.ptp(p0[:, 1])
    assert p0[head, 1] > p0[0, 1] > max(p0[foot, 1])
    assert p0[head, 1] - p0[:, 1].min() > 0.8 * height


@pytest.mark.parametrize("name", ["cmu_12_03_walk_120fps.bvh", "cmu_131_01_walk_mjstyle_60fps.bvh"])
def test_walking_feet_stay_on_the_ground(media, name):
    """With each joint's own Euler order, the lowest point of a walk stays at floor level;
    reading the channels in the wrong order makes the feet float by ~10% of the height."""
    data = read_bvh(media / "bvh" / name)
    pos, _ = bvh_fk(data)
    lowest = pos[:, :, 1].min(axis=1)
    height = np.ptp(pos[0, :, 1])
    spread = np.percentile(lowest, 95) - np.percentile(lowest, 5)
    assert spread < 0.05 * height


ANALYTIC = """HIERARCHY
ROOT Root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Child
  {
    OFFSET 0 0 1
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 2 0 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
1 2 3 90 90 0 0 0 0
0 0 0 0 0 0 0 0 90
"""


def test_analytic_fk_honours_channel_order():
    data = parse_bvh(ANALYTIC)
    assert data.frame_time == 0.04 and data.motion.shape == (2, 9)
    pos, rot = bvh_fk(data)
    # Frame 0: R = Rz(90) Rx(90); Rx(90) (0,0,1) = (0,-1,0); Rz(90) (0,-1,0) = (1,0,0).
    np.testing.assert_allclose(pos[0, 0], [1, 2, 3])
    np.testing.assert_allclose(pos[0, 1], [2, 2, 3], atol=1e-12)
    # Frame 1: the child turns 90 degrees about Y; its end site (2,0,0) goes to (0,0,-2).
    ends = end_site_positions(data, pos, rot)
    np.testing.assert_allclose(ends[1][1], [0, 0, 1 - 2], atol=1e-12)
    # Frame 0: the child has no rotation of its own; the root's R takes (2,0,0) to (0,2,0).
    np.testing.assert_allclose(ends[1][0], [2, 4, 3], atol=1e-12)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "HIERARCHY"),
        ("frame,time_s,person\n0,0.1,0\n", "does not start with HIERARCHY"),
        (ANALYTIC.split("MOTION")[0], "no MOTION"),
        (ANALYTIC.replace("Frames: 2", "Frames: 3"), "truncated"),
        (ANALYTIC.rsplit("\n", 2)[0] + " 0 0\n", "truncated"),
        (ANALYTIC.replace("CHANNELS 3 Zrotation", "CHANNELS 3 Wrotation"), "CHANNELS of Child"),
        (ANALYTIC.replace("OFFSET 0 0 1", "OFFSET 0 x 1"), "OFFSET of Child"),
        (ANALYTIC.replace("Frame Time: 0.04", "Frame Time: 0"), "Frame Time > 0"),
        (ANALYTIC.replace("1 2 3 90", "1 2 3 nine"), "not a number"),
        (ANALYTIC.replace("  }\n}\nMOTION", "  }\nMOTION"), "expected '}'"),
    ],
)
def test_bad_text_raises_input_error(text, message):
    with pytest.raises(InputError, match=message):
        parse_bvh(text, source="x.bvh")


def test_bad_files_raise_input_error(tmp_path, media):
    with pytest.raises(InputError, match="not found"):
        read_bvh(tmp_path / "missing.bvh")
    (tmp_path / "empty.bvh").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_bvh(tmp_path / "empty.bvh")
    (tmp_path / "video.bvh").write_bytes((media / "videos" / "single_squats_5fps.mp4").read_bytes()[:2000])
    with pytest.raises(InputError, match="binary|HIERARCHY"):
        read_bvh(tmp_path / "video.bvh")
    # A real file cut in the middle of its motion.
    full = (media / "bvh" / "cmu_12_03_walk_120fps.bvh").read_bytes()
    (tmp_path / "cut.bvh").write_bytes(full[: len(full) * 2 // 3])
    with pytest.raises(InputError, match="truncated"):
        read_bvh(tmp_path / "cut.bvh")
