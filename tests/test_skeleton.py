import numpy as np
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.landmarks import PoseLandmark as L


def test_bones_are_ordered_parents_first_with_unity_names():
    assert sk.BONE_NAMES[0] == "Hips" and sk.PARENTS[0] == -1
    assert all(sk.PARENTS[i] < i for i in range(1, sk.NUM_BONES))
    for name in ("Spine", "Chest", "UpperChest", "Neck", "Head", "LeftUpperArm", "RightLowerLeg", "LeftToes"):
        assert name in sk.BONE_INDEX


def test_rest_pose_is_a_t_pose_with_left_on_plus_x():
    pos, rot = sk.rest_pose()
    i = sk.BONE_INDEX
    assert pos[i["LeftHand"], 0] > 0.6 and pos[i["RightHand"], 0] < -0.6
    assert np.isclose(pos[i["LeftHand"], 1], pos[i["LeftUpperArm"], 1])  # arms horizontal
    assert pos[i["Head"], 1] > pos[i["Neck"], 1] > pos[i["Hips"], 1] > pos[i["LeftFoot"], 1]
    assert np.allclose(rot, [0, 0, 0, 1])


def test_landmark_weights_recover_joints_from_markers_at_rest():
    pos, rot = sk.rest_pose()
    markers = sk.markers_from_pose(pos, rot)
    assert np.allclose(sk.joints_from_landmarks(markers), pos, atol=1e-9)
    assert np.allclose(sk.JOINT_WEIGHTS.sum(axis=1), 1.0)


def test_forward_kinematics_rotating_the_left_elbow_moves_only_the_forearm_chain():
    q = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
    # Bend the left elbow 90 degrees so the forearm points forward (+Z): rotate about -Y.
    q[sk.BONE_INDEX["LeftLowerArm"]] = Rotation.from_euler("y", -90, degrees=True).as_quat()
    pos, _ = sk.forward_kinematics(q, sk.REST_OFFSETS[0])
    rest, _ = sk.rest_pose()
    hand = pos[sk.BONE_INDEX["LeftHand"]]
    elbow = pos[sk.BONE_INDEX["LeftLowerArm"]]
    assert np.allclose(hand - elbow, [0.0, 0.0, 0.25], atol=1e-9)  # forearm length
    assert np.allclose(pos[sk.BONE_INDEX["RightHand"]], rest[sk.BONE_INDEX["RightHand"]])


def test_forward_kinematics_broadcasts_over_frames():
    q = np.tile([0.0, 0.0, 0.0, 1.0], (5, sk.NUM_BONES, 1))
    root = np.zeros((5, 3))
    root[:, 2] = np.arange(5)
    pos, rot = sk.forward_kinematics(q, root)
    assert pos.shape == (5, sk.NUM_BONES, 3) and rot.shape == (5, sk.NUM_BONES, 4)
    assert np.allclose(pos[:, 0, 2], np.arange(5))


def test_markers_follow_head_rotation():
    q = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
    q[sk.BONE_INDEX["Head"]] = Rotation.from_euler("y", 90, degrees=True).as_quat()  # look to the subject's left
    pos, rot = sk.forward_kinematics(q, sk.REST_OFFSETS[0])
    m = sk.markers_from_pose(pos, rot)
    head = pos[sk.BONE_INDEX["Head"]]
    assert m[L.NOSE, 0] - head[0] > 0.1  # nose now points to +X (subject's left)


def test_unity_conversion_mirrors_x():
    assert np.allclose(sk.rig_to_unity_position([1.0, 2.0, 3.0]), [-1.0, 2.0, 3.0])
    r = Rotation.from_euler("y", 30, degrees=True)
    qu = sk.rig_to_unity_quaternion(r.as_quat())
    # A yaw to the subject's left (+X rig) is a yaw towards -X in Unity: same axis, opposite sign.
    assert np.allclose(Rotation.from_quat(qu).as_euler("xyz", degrees=True), [0, -30, 0], atol=1e-9)
