"""BVH writer: hierarchy conventions, round trip through the reader (FK within 1 mm of the
take's joint positions), resampling of uneven frame rates, and Blender's own importer."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.errors import InputError, OutputError
from arpose.record.bvh import bvh_fk, end_site_positions, read_bvh, skeleton_bvh_text, write_bvh
from arpose.record.export import body_track, export_bvh, on_grid, resample
from arpose.record.take import TakeWriter, read_take, take_header

sys.path.insert(0, str(Path(__file__).parent))  # the shared synthetic-take helper beside this file
from takegen import body_at, pose_frames  # noqa: E402

MM = 1e-3


def test_hierarchy_conventions(tmp_path):
    q = np.tile([0, 0, 0, 1.0], (3, sk.NUM_BONES, 1))
    path = write_bvh(tmp_path / "rest.bvh", q, np.tile(sk.REST_OFFSETS[0], (3, 1)), 1 / 30)
    data = read_bvh(path)
    assert data.names == sk.BONE_NAMES
    assert [data.names[p] if p >= 0 else None for p in data.parents] == [b.parent for b in sk.BONES]
    assert data.joints[0].channels == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
    assert all(j.channels == ("Zrotation", "Xrotation", "Yrotation") for j in data.joints[1:])
    np.testing.assert_allclose([j.offset for j in data.joints], sk.REST_OFFSETS, atol=1e-6)
    leaves = [j for j in data.joints if j.end_site is not None]
    assert {j.name for j in leaves} == set(sk.LEAF_BONES)
    assert all(np.linalg.norm(j.end_site) > 0.04 for j in leaves)
    assert data.frame_time == pytest.approx(1 / 30)
    # Zero rotations are the T-pose rest, Y up: the head is above the hips, hands out along X.
    pos, _ = bvh_fk(data)
    rest, _ = sk.rest_pose()
    np.testing.assert_allclose(pos[0], rest, atol=1e-6)
    assert pos[0, sk.BONE_INDEX["Head"], 1] > pos[0, 0, 1] > pos[0, sk.BONE_INDEX["LeftFoot"], 1]


def _take(tmp_path, times, people=(0,), name="t.take"):
    path = tmp_path / name
    with TakeWriter(path, take_header(source="synthetic", fps=30.0, resolution=(320, 240))) as w:
        for pf in pose_frames(times, people=people):
            w.write(pf)
    return read_take(path)


def test_round_trip_fk_matches_take_positions(tmp_path):
    times = np.arange(60) / 30.0
    take = _take(tmp_path, times, people=(0, 1))
    from arpose.record.export import take_body_track

    pid, track = take_body_track(take, person=1)
    assert pid == 1 and len(track) == 60 - 9  # frames 3, 10, 17 ... have nobody
    path, written, _ = export_bvh(track, tmp_path / "p1.bvh", nominal_fps=take.fps)
    data = read_bvh(path)
    # Missing frames (3, 10, ..., 59) are filled by interpolation: a constant 30 fps from the
    # first frame with a pose (0) to the last (58).
    assert data.num_frames == 59 and data.frame_time == pytest.approx(1 / 30)
    pos, _ = bvh_fk(data)
    by_time = {round(f.timestamp, 6): p.body.positions for f in take.frames for p in f.people if p.id == 1}
    checked = 0
    for k, t in enumerate(written.times):
        if round(t, 6) in by_time:
            assert np.max(np.abs(pos[k] - by_time[round(t, 6)])) < MM
            checked += 1
    assert checked == 51


def test_uneven_rate_is_resampled(tmp_path):
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(0.02, 0.05, size=80))  # 20-50 fps jitter, ~29 fps median
    track = body_track((t, body_at(t)) for t in times)
    assert not on_grid(track.times, 30.0)
    path, written, _ = export_bvh(track, tmp_path / "u.bvh", fps=30.0)
    data = read_bvh(path)
    assert data.frame_time == pytest.approx(1 / 30)
    assert data.num_frames == int(np.floor((times[-1] - times[0]) * 30)) + 1
    pos, _ = bvh_fk(data)
    # Each output frame is the analytic pose at its time, to interpolation accuracy.
    err = [np.max(np.abs(pos[k] - body_at(t).positions)) for k, t in enumerate(written.times)]
    assert np.max(err) < 0.02 and np.median(err) < 0.005


def test_no_body_pose_and_bad_fps(tmp_path):
    with pytest.raises(InputError, match="no retargeted body pose"):
        body_track([(0.0, None), (0.1, None)])
    track = body_track((t, body_at(t)) for t in np.arange(5) / 30)
    with pytest.raises(InputError, match="--fps"):
        resample(track, 0.0)


def test_existing_bvh_needs_force(tmp_path):
    out = tmp_path / "o.bvh"
    out.write_text("keep")
    track = body_track((t, body_at(t)) for t in np.arange(5) / 30)
    with pytest.raises(OutputError, match="--force"):
        export_bvh(track, out)
    assert out.read_text() == "keep"
    export_bvh(track, out, force=True)
    assert read_bvh(out).num_frames == 5


def test_nan_input_is_refused():
    q = np.tile([0, 0, 0, 1.0], (2, sk.NUM_BONES, 1))
    with pytest.raises(ValueError, match="finite"):
        skeleton_bvh_text(q, np.array([[0, 1, 0], [np.nan, 1, 0]]), 1 / 30)


def test_euler_channels_do_not_wrap():
    """A root spinning through 540 degrees about Y: the written channels stay continuous."""
    q = np.tile([0, 0, 0, 1.0], (90, sk.NUM_BONES, 1))
    q[:, 0] = Rotation.from_euler("Y", np.linspace(0, 3 * np.pi, 90)[:, None]).as_quat()
    data = read_bvh_text(skeleton_bvh_text(q, np.zeros((90, 3)), 1 / 30))
    yrot = data.motion[:, 5]
    assert np.max(np.abs(np.diff(yrot))) < 10.0
    _, rot = bvh_fk(data)
    assert np.allclose(np.abs(np.sum(rot[:, 0] * q[:, 0], axis=1)), 1.0)


def read_bvh_text(text):
    from arpose.record.bvh import parse_bvh

    return parse_bvh(text)


# --------------------------------------------------------------------------- Blender

# Blender's importer maps BVH (Y up, -Z forward) to Blender (Z up, Y forward): (x, y, z) -> (x, -z, y).
BVH_TO_BLENDER = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])


def test_blender_imports_the_motion_intact(tmp_path):
    bpy = pytest.importorskip(
        "bpy", reason="bpy (Blender as a Python module) is not installed: pip install 'arpose[test]' on Python 3.11"
    )
    times = np.arange(40) / 30.0
    track = body_track((t, body_at(t, scale=1.1)) for t in times)
    path, written, _ = export_bvh(track, tmp_path / "blender.bvh")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    result = bpy.ops.import_anim.bvh(filepath=str(path))
    assert result == {"FINISHED"}
    arm = next(o for o in bpy.data.objects if o.type == "ARMATURE")
    assert set(b.name for b in arm.pose.bones) == set(sk.BONE_NAMES)
    data = read_bvh(path)
    pos, rot = bvh_fk(data)
    ends = end_site_positions(data, pos, rot)
    worst = 0.0
    for k in (0, 7, 20, 39):
        bpy.context.scene.frame_set(k + 1)  # the importer starts at frame 1, one BVH frame each
        for name in sk.BONE_NAMES:
            pb = arm.pose.bones[name]
            head = np.array(arm.matrix_world @ pb.head)
            worst = max(worst, np.max(np.abs(head - BVH_TO_BLENDER @ written.positions[k, sk.BONE_INDEX[name]])))
            j = sk.BONE_INDEX[name]
            if j in ends:  # leaf bones end at their End Site
                tail = np.array(arm.matrix_world @ pb.tail)
                worst = max(worst, np.max(np.abs(tail - BVH_TO_BLENDER @ ends[j][k])))
    assert worst < MM


@pytest.mark.parametrize("floor_known", [True, False])
def test_floor_origin_puts_feet_on_y0(tmp_path, floor_known):
    """A T-pose standing on a floor at Y = -1.2, 3 m in front of the camera: with
    ``origin="floor"`` the hips land at (0, rest hip height, 0) and the toes at rest height,
    whether the floor comes from the poses or from the lowest toes."""
    from arpose.record.export import floor_origin
    from arpose.retarget.body import BodyPose

    q = np.tile([0, 0, 0, 1.0], (sk.NUM_BONES, 1))
    bodies = []
    for t in np.arange(10) / 30.0:
        root = np.array([0.5 + t, sk.REST_OFFSETS[0, 1] - 1.2, -3.0])
        pos, _ = sk.forward_kinematics(q, root)
        bodies.append(
            (
                t,
                BodyPose(
                    q,
                    root,
                    pos,
                    sk.REST_OFFSETS,
                    np.ones(sk.NUM_BONES),
                    floor_height=-1.2 if floor_known else float("nan"),
                ),
            )
        )
    track = body_track(bodies)
    np.testing.assert_allclose(floor_origin(track), [0.5, -1.2, -3.0], atol=1e-9)
    path, written, _ = export_bvh(track, tmp_path / "floor.bvh", origin="floor")
    pos, _ = bvh_fk(read_bvh(path))
    rest, _ = sk.rest_pose()
    np.testing.assert_allclose(pos[0], rest, atol=1e-5)
    np.testing.assert_allclose(pos[-1, 0], [9 / 30, rest[0, 1], 0.0], atol=1e-5)
    with pytest.raises(InputError, match="origin"):
        export_bvh(track, tmp_path / "x.bvh", origin="moon")
