"""The synthetic performer: rendering, ground truth, placement, and BlazePose on its frames."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose._cv import cv2
from arpose.errors import ConfigError, InputError
from arpose.landmarks import PoseLandmark as L
from arpose.performer import PROCEDURAL, MannequinConfig, PerformerSource, Placement, build_parts, get_motion
from arpose.performer.performer import _lowest_sole
from arpose.performer.render import pose_matrices
from arpose.skeleton import BONE_INDEX, NUM_BONES, forward_kinematics
from arpose.types import Camera


@pytest.fixture(scope="module")
def sources():
    """One source per motion, 2 s at 15 fps (cheap to pose; frames render on demand)."""
    made = {name: PerformerSource(name, seconds=2.0, fps=15.0) for name in PROCEDURAL}
    yield made
    for s in made.values():
        s.close()


def test_rendering_is_deterministic_for_a_seed():
    a = PerformerSource("jumping_jack", seconds=1.0, noise=3.0, seed=7)
    b = PerformerSource("jumping_jack", seconds=1.0, noise=3.0, seed=7)
    c = PerformerSource("jumping_jack", seconds=1.0, noise=3.0, seed=8)
    try:
        ia, da = a.render(5)
        ib, db = b.render(5)
        ic, _ = c.render(5)
        assert ia.dtype == np.uint8 and ia.shape == (480, 640, 3)
        assert np.array_equal(ia, ib) and np.array_equal(da, db)
        assert not np.array_equal(ia, ic)  # another seed, other noise
        assert np.array_equal(a.render(5)[0], ia)  # re-rendering the same frame is identical
    finally:
        for s in (a, b, c):
            s.close()


@pytest.mark.parametrize("motion", ["tpose", "squat", "jumping_jack", "wave", "walk", "turn"])
def test_markers_project_inside_the_silhouette_and_behind_the_surface(sources, motion):
    src = sources[motion]
    for i in (0, 7, 15, 22):
        image, depth = src.render(i)
        gt = src.ground_truth(i)
        px = np.rint(gt.markers_px).astype(int)
        assert ((px >= 0) & (px < [640, 480])).all(), "whole body in view"
        # the silhouette (depth > 0) covers every marker, up to one pixel of rounding
        pad = np.pad(depth, 1)
        win = np.stack([pad[px[:, 1] + dy, px[:, 0] + dx] for dy in range(3) for dx in range(3)], axis=1)
        assert (win.max(axis=1) > 0).all(), f"frame {i}: markers off the body: {np.flatnonzero(win.max(axis=1) == 0)}"
        # the camera sees a surface at or in front of each marker (markers lie on/in the body)
        d = depth[px[:, 1], px[:, 0]]
        z = gt.markers_camera[:, 2]
        ok = d > 0
        assert (d[ok] <= z[ok] + 0.02).all()
        # unoccluded frontal markers are close to the surface
        if motion == "tpose":
            assert np.median(z - d) < 0.08
        # and the background stays the wall colour (a 2 px antialiased rim aside)
        body = cv2.dilate((depth > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        assert (image[~body] == image[0, 0]).all()


def test_pyrender_camera_matches_the_intrinsics():
    """A different, off-centre camera: the hip centre still projects where the pinhole model says."""
    cam = Camera(width=320, height=400, fx=300.0, fy=310.0, cx=140.0, cy=230.0)
    src = PerformerSource("tpose", seconds=0.2, camera=cam, placement=Placement(distance=4.0))
    try:
        _, depth = src.render(0)
        gt = src.ground_truth(0)
        rows, cols = np.nonzero(depth)
        # the body's left-right extent is symmetric about the hips' projected x (T-pose)
        hip_x = cam.project(gt.markers_camera[[L.LEFT_HIP, L.RIGHT_HIP]]).mean(axis=0)[0]
        assert abs((cols.min() + cols.max()) / 2 - hip_x) < 2.0
        # the soles touch the floor line's projection
        floor_row = cam.fy * 1.0 / 4.0 + cam.cy  # camera 1 m above the floor, subject 4 m away
        assert abs(rows.max() - floor_row) < 4.0
    finally:
        src.close()


def test_placement_and_conventions(sources):
    gt = sources["tpose"].truth
    m = gt.markers_camera[0]
    # subject faces the camera: nose nearer than the ears; their left on the image's right
    assert m[L.NOSE, 2] < m[L.LEFT_EAR, 2]
    assert gt.markers_px[0, L.LEFT_WRIST, 0] > 320 > gt.markers_px[0, L.RIGHT_WRIST, 0]
    assert np.allclose(gt.root_position[0], [0.0, 0.93 - 1.0, -3.0], atol=1e-9)
    assert np.allclose(gt.local_rotations[0, 0], [0, 0, 0, 1])
    # MediaPipe-world markers are hip-centred with y down
    w = gt.markers_mp_world[0]
    assert np.allclose((w[L.LEFT_HIP] + w[L.RIGHT_HIP]) / 2, 0.0, atol=1e-12)
    assert w[L.NOSE, 1] < 0


@pytest.mark.parametrize("motion", sorted(PROCEDURAL))
def test_procedural_motions_stand_on_the_floor(sources, motion):
    src = sources[motion]
    gt = src.truth
    q = gt.local_rotations
    assert np.allclose(np.linalg.norm(q, axis=-1), 1.0)
    floor = -src.placement.camera_height
    low = _lowest_sole(gt.joint_positions, gt.joint_rotations, gt.offsets, src.mannequin.scale)
    lift = get_motion(motion).sample(gt.timestamps).root_position[:, 1]
    assert np.allclose(low - floor, lift, atol=1e-9)
    assert (low >= floor - 1e-9).all()


def test_squat_reaches_its_known_depth():
    squat = get_motion("squat").sample(np.array([0.0, 1.25]))
    assert squat.local_rotations.shape == (2, NUM_BONES, 4)
    gt = PerformerSource("squat", seconds=2.5, fps=4.0).truth  # frame 5 is t = 1.25 s, the deepest
    deep = 5
    hip_drop = gt.root_position[0, 1] - gt.root_position[deep, 1]
    assert 0.25 < hip_drop < 0.6  # a deep squat lowers the hips by a few decimetres
    knee = gt.joint_positions[deep, BONE_INDEX["LeftLowerLeg"]]
    hip = gt.joint_positions[deep, BONE_INDEX["LeftUpperLeg"]]
    angle = np.degrees(np.arctan2(knee[2] - hip[2], hip[1] - knee[1]))
    assert angle == pytest.approx(95.0, abs=1.0)  # thigh 95 degrees forward of vertical, towards the camera


def test_body_size_follows_the_config():
    for height in (1.5, 1.72, 1.95):
        cfg = MannequinConfig(height=height)
        off = cfg.offsets()
        pos, rot = forward_kinematics(np.tile([0.0, 0, 0, 1], (len(off), 1)), off[0], off)
        mats = pose_matrices(pos, rot, scale=cfg.scale)  # body bones, then the fingers at rest
        ys = np.concatenate(
            [(p.mesh.vertices @ mats[p.bone][:3, :3].T + mats[p.bone][:3, 3])[:, 1] for p in build_parts(cfg)]
        )
        assert ys.min() == pytest.approx(0.0, abs=0.01 * height)
        assert ys.max() - ys.min() == pytest.approx(height, rel=0.03)
    long_legs = MannequinConfig(leg_length=1.2).offsets()
    assert long_legs[0, 1] > MannequinConfig().offsets()[0, 1]


def test_bad_settings_raise_typed_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown motion"):
        PerformerSource("moonwalk")
    with pytest.raises(InputError, match="not found"):
        PerformerSource(str(tmp_path / "missing.bvh"))
    with pytest.raises(ConfigError, match="height"):
        MannequinConfig(height=3.0)
    with pytest.raises(ConfigError, match="fps"):
        PerformerSource("wave", fps=0.0)
    with pytest.raises(ConfigError, match="distance"):
        Placement(distance=0.0)


def test_yaw_turns_the_subject():
    src = PerformerSource("tpose", seconds=0.1, placement=Placement(yaw_deg=90.0))
    gt = src.truth
    fwd = Rotation.from_quat(gt.root_rotation[0]).apply([0, 0, 1])
    assert np.allclose(fwd, [1, 0, 0], atol=1e-9)  # facing the image's right
    assert gt.markers_camera[0, L.LEFT_WRIST, 2] > gt.markers_camera[0, L.RIGHT_WRIST, 2]  # left arm away


@pytest.mark.slow
@pytest.mark.parametrize("motion", ["tpose", "squat"])
def test_blazepose_finds_the_performer(motion):
    from arpose.estimate import BlazePoseEstimator, EstimatorConfig
    from arpose.evaluate import metrics as M

    src = PerformerSource(motion, seconds=1.5, fps=20.0)
    pred = np.full((src.frame_count, 33, 2), np.nan)
    with BlazePoseEstimator(EstimatorConfig(tracking=True)) as est:
        for frame in src:
            pf = est.process(frame)
            if pf.people:
                pred[frame.index] = pf.people[0].pixels(*src.size)
    gt = src.truth
    assert M.detection_rate(pred) == 1.0
    assert M.pck(pred, gt.markers_px, gt.torso_px, 0.2) >= 0.9
    assert M.median_px_error(pred, gt.markers_px) < 10.0
