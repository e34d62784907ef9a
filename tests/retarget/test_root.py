from dataclasses import replace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.retarget import RetargetConfig, Retargeter, fit_root_pose
from arpose.retarget.geometry import geodesic_degrees
from arpose.retarget.model_poses import random_model_pose

R_CAM = Rotation.from_euler("yx", [25, -8], degrees=True).as_matrix()  # MediaPipe world -> camera
T_CAM = np.array([0.3, -0.1, 3.2])


def _pixels(person, cam):
    return person.landmarks[:, :2].astype(np.float64) * [cam.width, cam.height]


def test_pnp_recovers_a_known_pose_exactly_without_noise(synth):
    person = synth.person(random_model_pose(np.random.default_rng(1)), R_CAM, T_CAM)
    fit = fit_root_pose(person.world, _pixels(person, synth.camera), np.ones(33), synth.camera)
    assert np.linalg.norm(fit.translation - T_CAM) < 1e-3
    assert np.degrees(np.linalg.norm(Rotation.from_matrix(fit.rotation.T @ R_CAM).as_rotvec())) < 0.05
    assert fit.rms_px < 0.01 and fit.points == 33


def test_pnp_with_one_pixel_noise_stays_within_5_cm_and_1_degree(synth):
    rng = np.random.default_rng(2)
    for _ in range(10):
        person = synth.person(random_model_pose(rng), R_CAM, T_CAM, px_noise=1.0, rng=rng)
        fit = fit_root_pose(person.world, _pixels(person, synth.camera), np.ones(33), synth.camera)
        assert np.linalg.norm(fit.translation - T_CAM) < 0.05
        assert np.degrees(np.linalg.norm(Rotation.from_matrix(fit.rotation.T @ R_CAM).as_rotvec())) < 1.0
        assert 0.5 < fit.rms_px < 2.0


def test_pnp_needs_enough_visible_points(synth):
    person = synth.person(random_model_pose(np.random.default_rng(3)), R_CAM, T_CAM)
    vis = np.zeros(33)
    vis[:5] = 1.0
    assert fit_root_pose(person.world, _pixels(person, synth.camera), vis, synth.camera) is None
    with pytest.raises(ValueError, match="33"):
        fit_root_pose(person.world[:10], _pixels(person, synth.camera), vis, synth.camera)


def test_retargeted_skeleton_lands_on_the_body_in_the_image(synth):
    """Overlay check: every joint projected with the camera lands on its landmark's pixel."""
    q = random_model_pose(np.random.default_rng(4))
    person = synth.person(q, R_CAM, T_CAM)
    cfg = replace(RetargetConfig(), grounding_enabled=False)
    body, _ = Retargeter(cfg, synth.camera).update(person, 0.0)
    px = synth.camera.project(body.camera_points(body.positions))
    want = synth.camera.project(sk.joints_from_landmarks(person.world.astype(np.float64)) @ R_CAM.T + T_CAM)
    assert np.abs(px - want).max() < 0.5
    assert np.linalg.norm(body.camera_translation - T_CAM) < 1e-3
    assert body.reprojection_error_px < 0.01
    # Body orientation in the camera: the rig-frame pose turned by the camera rotation.
    want_root = Rotation.from_matrix(sk.MP_TO_RIG @ R_CAM @ sk.MP_TO_RIG) * Rotation.from_quat(q[0])
    assert geodesic_degrees(body.root_rotation, want_root.as_quat()) < 0.1
    # Local rotations below the root are unchanged by the camera.
    assert geodesic_degrees(body.local_rotations[1:], q[1:]).max() < 1.0


def test_subject_facing_an_unrotated_camera_has_identity_root_and_positive_depth(synth, rest_local):
    body, _ = Retargeter(camera=synth.camera).update(synth.person(rest_local), 0.0)
    assert geodesic_degrees(body.root_rotation, [0, 0, 0, 1]) < 0.05
    assert body.camera_translation[2] == pytest.approx(3.0, abs=1e-3)
    left = body.positions[sk.BONE_INDEX["LeftHand"]]
    assert left[0] > body.root_position[0] + 0.5  # the subject's left hand is on the image's right


def test_without_a_fit_the_root_is_held_then_nan(synth, rest_local):
    r = Retargeter(replace(RetargetConfig(), grounding_enabled=False), synth.camera)
    person = synth.person(rest_local)
    r.update(person, 0.0)
    hidden = person.with_(landmarks=person.landmarks.copy())
    hidden.landmarks[:, 3] = 0.0
    held, _ = r.update(hidden, 0.2)
    assert np.allclose(held.camera_translation, [0, 0, 3.0], atol=1e-3)
    lost, _ = r.update(hidden, 2.0)
    assert np.all(np.isnan(lost.root_position)) and np.all(np.isnan(lost.positions))


def test_depth_smoothing_steadies_the_distance_and_keeps_the_overlay_on_the_body(synth, rest_local):
    """MediaPipe's world scale wobbles from frame to frame, so the fitted depth does; the
    smoothed root slides along its viewing ray: steadier depth, same pixels."""
    rng = np.random.default_rng(11)
    plain = Retargeter(replace(RetargetConfig(), grounding_enabled=False, depth_smoothing=None), synth.camera)
    smooth = Retargeter(replace(RetargetConfig(), grounding_enabled=False), synth.camera)
    person = synth.person(rest_local)
    hip = sk.BONE_INDEX["Hips"]
    z_plain, z_smooth = [], []
    for k in range(60):
        wobble = person.with_(world=person.world * np.float32(1.0 + rng.normal(scale=0.03)))
        a, _ = plain.update(wobble, k / 30)
        b, _ = smooth.update(wobble, k / 30)
        z_plain.append(a.camera_translation[2])
        z_smooth.append(b.camera_translation[2])
        pa = synth.camera.project(a.camera_points(a.positions[[hip]]))
        pb = synth.camera.project(b.camera_points(b.positions[[hip]]))
        assert np.abs(pa - pb).max() < 1e-6
    assert np.std(np.diff(z_smooth)) < 0.5 * np.std(np.diff(z_plain))


def test_known_height_scales_the_body_about_the_camera(synth, rest_local):
    """A 1.50 m person whose landmarks come at MediaPipe's average scale (1.72 m) is placed
    too far away; with their height the depth is right and the pixels do not move."""
    small = synth.person(rest_local, height=1.50, cam_translation=(0.0, 0.0, 2.5))
    avg = synth.person(rest_local, height=1.72, cam_translation=(0.0, 0.0, 2.5 * 1.72 / 1.50))
    person = avg.with_(landmarks=small.landmarks)  # average-size world, the small person's pixels
    cfg = replace(RetargetConfig(), grounding_enabled=False)
    plain, _ = Retargeter(cfg, synth.camera).update(person, 0.0)
    known, _ = Retargeter(replace(cfg, subject_height=1.50), synth.camera).update(person, 0.0)
    assert plain.camera_translation[2] == pytest.approx(2.5 * 1.72 / 1.50, abs=0.01)
    assert known.camera_translation[2] == pytest.approx(2.5, abs=0.01)
    px = lambda b: synth.camera.project(b.camera_points(b.positions))
    assert np.abs(px(plain) - px(known)).max() < 1e-6
