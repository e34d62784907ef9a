"""The Blender add-on's retargeting, without Blender: bone maps from the naming schemes rigs come
with, bone-map files, and the solver on a rig built to be awkward (an A-pose with bone rolls, an
object scaled 100 times, turned and translated, an unmapped bone posed between two mapped ones,
and IK feet hanging from the root), checked by an independent evaluation of Blender's pose
formula in numpy (4x4 matrices, the object's scale included) against answers geometry knows."""

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation as R

from arpose.skeleton import EYE_BONE_NAMES, FINGER_BONE_NAMES, RIG_BONE_NAMES

sys.path.insert(0, str(Path(__file__).parent))
from test_blender_addon import addon  # noqa: E402, F401 - the add-on imported without bpy

SIDES = ("Left", "Right")


def test_schemes_hold_arpose_rig_bone_names(addon):  # noqa: F811
    """The add-on's copy of the naming schemes has every name of arpose.skeleton.RIG_BONE_NAMES for
    the body, and its own finger and eye names (humanoid bones of arpose's finger and eye bones)."""
    assert set(addon.RIG_BONE_NAMES) == set(RIG_BONE_NAMES)
    extra = set(FINGER_BONE_NAMES) | set(EYE_BONE_NAMES)
    for scheme, table in RIG_BONE_NAMES.items():
        assert set(addon.NAME_SCHEMES[scheme]) - extra == set(table), scheme
        assert set(addon.EXTRA_BONE_NAMES.get(scheme, {})) <= extra, scheme
        for bone, name in table.items():
            assert name in addon.NAME_SCHEMES[scheme][bone], (scheme, bone)
    assert addon.NAME_SCHEMES["humanoid"] == {b: (b,) for b, *_ in addon.FULL_SKELETON}


def _sided(fmt, left, right, bones):
    return [fmt.format(s=s, b=b) for s in (left, right) for b in bones]


# Bone names as each kind of rig arrives in Blender (extra bones included: fingers, twists, roots).
RIGS = {
    "mixamo": ["mixamorig:Hips", "mixamorig:Spine", "mixamorig:Spine1", "mixamorig:Spine2", "mixamorig:Neck"]
    + ["mixamorig:Head", "mixamorig:HeadTop_End"]
    + _sided("mixamorig:{s}{b}", "Left", "Right", ["Shoulder", "Arm", "ForeArm", "Hand", "HandIndex1", "HandIndex2"])
    + _sided("mixamorig:{s}{b}", "Left", "Right", ["UpLeg", "Leg", "Foot", "ToeBase", "Toe_End"]),
    "vrm": ["Root", "J_Bip_C_Hips", "J_Bip_C_Spine", "J_Bip_C_Chest", "J_Bip_C_UpperChest", "J_Bip_C_Neck"]
    + ["J_Bip_C_Head", "J_Adj_L_FaceEye", "J_Sec_Hair1_01"]
    + _sided("J_Bip_{s}_{b}", "L", "R", ["Shoulder", "UpperArm", "LowerArm", "Hand", "Index1", "UpperLeg"])
    + _sided("J_Bip_{s}_{b}", "L", "R", ["LowerLeg", "Foot", "ToeBase"]),
    "rigify": ["root", "DEF-spine"]
    + [f"DEF-spine.00{i}" for i in range(1, 7)]
    + ["ORG-spine", "MCH-torso.parent"]
    + _sided("DEF-{b}.{s}", "L", "R", ["shoulder", "upper_arm", "upper_arm.L.001", "forearm", "hand", "thigh"])
    + _sided("DEF-{b}.{s}", "L", "R", ["thigh.001", "shin", "shin.001", "foot", "toe", "f_index.01"])
    + _sided("ORG-{b}.{s}", "L", "R", ["upper_arm", "thigh"]),
    "character_creator": ["CC_Base_BoneRoot", "CC_Base_Hip", "CC_Base_Pelvis", "CC_Base_Waist", "CC_Base_Spine01"]
    + ["CC_Base_Spine02", "CC_Base_NeckTwist01", "CC_Base_NeckTwist02", "CC_Base_Head"]
    + _sided("CC_Base_{s}_{b}", "L", "R", ["Clavicle", "Upperarm", "UpperarmTwist01", "Forearm", "Hand", "Thigh"])
    + _sided("CC_Base_{s}_{b}", "L", "R", ["Calf", "CalfTwist01", "Foot", "ToeBase", "Index1"]),
    "unreal": ["root", "pelvis", "spine_01", "spine_02", "spine_03", "spine_04", "spine_05", "neck_01", "neck_02"]
    + ["head", "ik_foot_root"]
    + _sided("{b}_{s}", "l", "r", ["clavicle", "upperarm", "upperarm_twist_01", "lowerarm", "hand", "thigh"])
    + _sided("{b}_{s}", "l", "r", ["calf", "calf_twist_01", "foot", "ball", "index_01"]),
    # What Blender's glTF importer names the shared models' bones (checked in real bpy by test_blender_rigs.py).
    "cesium_man": ["Skeleton_torso_joint_1", "leg_joint_R_1", "leg_joint_R_2", "leg_joint_R_3", "leg_joint_R_5"]
    + ["leg_joint_L_1", "leg_joint_L_2", "leg_joint_L_3", "leg_joint_L_5", "Skeleton_torso_joint_2", "torso_joint_3"]
    + ["Skeleton_arm_joint_R", "Skeleton_arm_joint_R__2_", "Skeleton_arm_joint_R__3_", "Skeleton_arm_joint_L__4_"]
    + ["Skeleton_arm_joint_L__3_", "Skeleton_arm_joint_L__2_", "Skeleton_neck_joint_1", "Skeleton_neck_joint_2"],
    "robot_expressive": ["Bone", "FootL", "Body", "UpperLegL", "LowerLegL", "UpperLegR", "LowerLegR", "Hips"]
    + ["Abdomen", "Torso_1", "Neck", "Head_1", "ShoulderL", "UpperArmL", "LowerArmL", "Palm2L", "Middle1L"]
    + ["ShoulderR", "UpperArmR", "LowerArmR", "Palm2R", "PoleTargetL", "FootR", "PoleTargetR"],
    "humanoid": [b for b, *_ in (("Hips",), ("Spine",))]
    + ["Chest", "UpperChest", "Neck", "Head"]
    + _sided("{s}{b}", "Left", "Right", ["Shoulder", "UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg"])
    + _sided("{s}{b}", "Left", "Right", ["Foot", "Toes", "IndexProximal"]),
}
# Known answers per scheme: (bones found, a few of them).
EXPECTED = {
    "mixamo": (  # + HandIndex1, HandIndex2 of each hand
        26,
        {"Chest": "mixamorig:Spine1", "LeftUpperArm": "mixamorig:LeftArm", "RightUpperLeg": "mixamorig:RightUpLeg"},
    ),
    "vrm": (  # + Index1 of each hand, the left eye
        25,
        {"UpperChest": "J_Bip_C_UpperChest", "LeftLowerArm": "J_Bip_L_LowerArm", "RightToes": "J_Bip_R_ToeBase"},
    ),
    "rigify": (  # + f_index.01 of each hand
        24,
        {
            "Hips": "DEF-spine",
            "Head": "DEF-spine.006",
            "LeftUpperArm": "DEF-upper_arm.L",
            "RightLowerLeg": "DEF-shin.R",
        },
    ),
    "character_creator": (  # + Index1 of each hand
        24,
        {"Hips": "CC_Base_Hip", "LeftUpperArm": "CC_Base_L_Upperarm", "RightFoot": "CC_Base_R_Foot"},
    ),
    "unreal": (24, {"Hips": "pelvis", "UpperChest": "spine_03", "LeftLowerArm": "lowerarm_l", "RightToes": "ball_r"}),
    "cesium_man": (
        19,
        {"Hips": "Skeleton_torso_joint_1", "LeftUpperArm": "Skeleton_arm_joint_L__4_", "RightToes": "leg_joint_R_5"},
    ),
    "robot_expressive": (18, {"Hips": "Body", "Head": "Head_1", "LeftFoot": "FootL", "RightLowerArm": "LowerArmR"}),
    "humanoid": (24, {"Hips": "Hips", "LeftToes": "LeftToes", "RightIndexProximal": "RightIndexProximal"}),
}


@pytest.mark.parametrize("scheme", sorted(RIGS))
def test_auto_map_finds_each_naming_scheme(addon, scheme):  # noqa: F811
    names = RIGS[scheme]
    found_scheme, mapping = addon.auto_map(names)
    count, some = EXPECTED[scheme]
    assert found_scheme == scheme and len(mapping) == count
    assert {b: mapping[b] for b in some} == some
    assert set(mapping.values()) <= set(names) and len(set(mapping.values())) == count
    # Left is the subject's left in every scheme.
    for bone, name in mapping.items():
        if bone.startswith("Left"):
            assert any(t in name for t in ("Left", "_L", ".L", "_l", "L_", "L")) and "Right" not in name


def test_auto_map_ignores_case_and_mixamo_prefixes(addon):  # noqa: F811
    names = ["mixamorig1:hips", "MIXAMORIG_Spine", "mixamorig:LEFTARM", "mixamorig9:LeftForeArm", "LeftUpLeg"]
    scheme, mapping = addon.auto_map(names)
    assert scheme == "mixamo"
    assert mapping == {
        "Hips": "mixamorig1:hips",
        "Spine": "MIXAMORIG_Spine",
        "LeftUpperArm": "mixamorig:LEFTARM",
        "LeftLowerArm": "mixamorig9:LeftForeArm",
        "LeftUpperLeg": "LeftUpLeg",
    }
    assert addon.auto_map(["Bone", "Bone.001", "Cube"]) == (None, {})
    assert addon.auto_map([]) == (None, {})


def test_bone_map_files_round_trip_and_refuse_what_is_not_a_map(addon):  # noqa: F811
    _, mapping = addon.auto_map(RIGS["mixamo"])
    text = addon.map_to_json(mapping, "Armature")
    assert addon.map_from_json(text) == mapping
    assert addon.map_from_json('{"Hips": "pelvis", "LeftUpperArm": ""}') == {"Hips": "pelvis"}  # a plain object
    for bad, why in [
        ("{nope", "not JSON"),
        ("[1, 2]", "expected an object"),
        ('{"format": "something-else", "bones": {}}', "format 'something-else'"),
        ('{"Hips": "a", "LeftPinky": "b", "Tail": "c"}', "unknown humanoid bones LeftPinky, Tail"),
        ('{"Hips": 3}', "the bone names of Hips are not text"),
    ]:
        with pytest.raises(addon.MapError, match=f"^map.json: {why}") as err:
            addon.map_from_json(bad, "map.json")
        assert "\n" not in str(err.value)


def test_pose_state_queues_every_completed_frame(addon):  # noqa: F811
    st = addon.PoseState()
    for k in range(3):
        q = R.from_euler("z", 10 * k, degrees=True).as_quat()
        st.handle("/VMC/Ext/Bone/Pos", ("LeftUpperArm", 0.0, 0.0, 0.0, *q))
        st.handle("/VMC/Ext/T", (k / 30,))
    frames = st.take_frames()
    assert [f.timestamp for f in frames] == [0.0, 1 / 30, 2 / 30] and st.take_frames() == []
    angles = [R.from_quat(f.local["LeftUpperArm"]).magnitude() for f in frames]
    np.testing.assert_allclose(np.degrees(angles), [0, 10, 20], atol=1e-9)  # each frame its own pose
    for k in range(addon.MAX_QUEUED_FRAMES + 5):
        st.handle("/VMC/Ext/T", (float(k),))
    frames = st.take_frames()
    assert len(frames) == addon.MAX_QUEUED_FRAMES and st.dropped_frames == 5 and frames[0].timestamp == 5.0


# ---------------------------------------------------------------------------------------------
# The solver on an awkward rig.

# The rig in its own rest, world metres before the object transform's scale: x its left, y its
# back, z up (Blender axes of a character facing -Y). A-pose arms (40 degrees down), bent-knee legs
# (knees 4 cm forward), a 0.2 m tall unmapped "Spacer" bone between the hips and the spine, and
# IK feet parented to the root bone "Root" rather than to the lower legs.
_A = np.radians(40.0)
_REST_POINTS = {
    "Root": (0.0, 0.0, 0.0),
    "Hips": (0.0, 0.0, 0.95),
    "Spacer": (0.0, 0.0, 1.0),
    "Spine": (0.0, 0.0, 1.05),
    "Chest": (0.0, 0.0, 1.2),
    "Neck": (0.0, 0.0, 1.45),
    "Head": (0.0, 0.0, 1.55),
}
for _s, _x in (("Left", 1.0), ("Right", -1.0)):
    _sh = np.array([0.18 * _x, 0.0, 1.4])
    _d = np.array([np.cos(_A) * _x, 0.0, -np.sin(_A)])
    _REST_POINTS.update(
        {
            f"{_s}UpperArm": tuple(_sh),
            f"{_s}LowerArm": tuple(_sh + 0.3 * _d),
            f"{_s}Hand": tuple(_sh + 0.55 * _d),
            f"{_s}UpperLeg": (0.1 * _x, 0.0, 0.9),
            f"{_s}LowerLeg": (0.1 * _x, -0.04, 0.5),
            f"{_s}Foot": (0.1 * _x, 0.0, 0.08),
            f"{_s}Toes": (0.1 * _x, -0.12, 0.02),
        }
    )
_PARENTS = {
    "Root": None,
    "Hips": "Root",
    "Spacer": "Hips",
    "Spine": "Spacer",
    "Chest": "Spine",
    "Neck": "Chest",
    "Head": "Neck",
    **{f"{s}UpperArm": "Chest" for s in SIDES},
    **{f"{s}LowerArm": f"{s}UpperArm" for s in SIDES},
    **{f"{s}Hand": f"{s}LowerArm" for s in SIDES},
    **{f"{s}UpperLeg": "Hips" for s in SIDES},
    **{f"{s}LowerLeg": f"{s}UpperLeg" for s in SIDES},
    **{f"{s}Foot": "Root" for s in SIDES},  # IK feet
    **{f"{s}Toes": f"{s}Foot" for s in SIDES},
}
RIG_SCALE = 0.8  # this character's size relative to its rest points above


def _object_matrix():
    """The object's world matrix: scale 100, then -90 degrees about X (as glTF imports), then a
    parent turning it 30 degrees about Z and moving it; composed so that the rig stands upright."""
    m = np.eye(4)
    m[:3, :3] = R.from_euler("z", 30, degrees=True).as_matrix() @ R.from_euler("x", -90, degrees=True).as_matrix() * 100
    m[:3, 3] = (1.0, 2.0, 3.0)
    return m


def _rig():
    """``(bones for calibrate, matrix_world 4x4)``: armature-space rest heads are the rest points
    (times RIG_SCALE) brought through the inverse of the object transform; rest rotations random."""
    m = _object_matrix()
    inv = np.linalg.inv(m)
    rng = np.random.default_rng(3)
    bones = []
    for name, parent in _PARENTS.items():
        world = TURN.apply(RIG_SCALE * np.array(_REST_POINTS[name])) + m[:3, 3]
        head = (inv @ np.append(world, 1.0))[:3]
        bones.append((name, parent, tuple(R.random(random_state=rng).as_quat()), tuple(head)))
    return bones, m


def _mat(q, t):
    out = np.eye(4)
    out[:3, :3] = R.from_quat(q).as_matrix()
    out[:3, 3] = t
    return out


def _blender_evaluate(bones, basis, current, matrix_world):
    """World head position and world rotation of every bone as Blender evaluates a pose:
    ``pose = parent_pose @ parent_rest^-1 @ rest @ basis``, world = ``matrix_world @ pose``."""
    rest = {n: _mat(q, h) for n, _, q, h in bones}
    parent = {n: p for n, p, *_ in bones}
    pose, out = {}, {}
    for n, p, *_ in bones:  # listed parents first
        q, loc = current.get(n, ((0, 0, 0, 1), (0, 0, 0)))
        if n in basis:
            q = basis[n][0]
            loc = basis[n][1] if basis[n][1] is not None else loc
        local = _mat(q, loc)
        pose[n] = (
            rest[n] @ local if parent[n] is None else pose[parent[n]] @ np.linalg.inv(rest[parent[n]]) @ rest[n] @ local
        )
        w = matrix_world @ pose[n]
        u, _, vt = np.linalg.svd(w[:3, :3])
        out[n] = (w[:3, 3], R.from_matrix(u @ vt))
    return out


def _frame(addon, rig_rotations, hips=(0.0, 0.0, 0.93)):  # noqa: F811
    """A received frame from rig-frame local rotations (as arpose's raw stream carries them)."""
    local = {b: (0.0, 0.0, 0.0, 1.0) for b, *_ in addon.SKELETON}
    for b, r in rig_rotations.items():
        local[b] = tuple(r.as_quat())
    return addon.ReceivedFrame(
        {b: addon.rig_to_blender_quat(q) for b, q in local.items()}, addon.IDENTITY, hips, 0.0, True
    )


def _unit(v):
    return np.asarray(v) / np.linalg.norm(v)


TURN = R.from_euler("z", 30, degrees=True)  # the rig's facing in world: its left is TURN * +X
CURRENT = {"Spacer": (tuple(R.from_euler("xz", [25, -40], degrees=True).as_quat()), (0.0, 0.02, 0.0))}


def test_calibration_reads_the_rigs_facing_scale_floor_and_carried_feet(addon):  # noqa: F811
    bones, m = _rig()
    _, mapping = addon.auto_map([b[0] for b in bones])
    assert len(mapping) == 19 and "Spacer" not in mapping.values() and "UpperChest" not in mapping
    cal = addon.calibrate(bones, mapping, m)
    np.testing.assert_allclose(addon.qrotate(cal.facing, (1, 0, 0)), TURN.apply([1, 0, 0]), atol=1e-9)
    leg = np.linalg.norm(np.subtract(_REST_POINTS["LeftLowerLeg"], _REST_POINTS["LeftUpperLeg"])) + np.linalg.norm(
        np.subtract(_REST_POINTS["LeftFoot"], _REST_POINTS["LeftLowerLeg"])
    )
    assert cal.scale == pytest.approx(RIG_SCALE * leg / 0.85, rel=1e-9)
    assert cal.floor == pytest.approx(3.0 + RIG_SCALE * 0.02, abs=1e-9)  # the toes, in world
    assert cal.carried == {"LeftFoot", "RightFoot"}
    order = cal.order
    assert order.index("LeftFoot") > order.index("LeftLowerLeg") and order.index("Spine") > order.index("Spacer")
    with pytest.raises(addon.ArmatureError, match="mirrored"):
        addon.calibrate(bones, mapping, m @ np.diag([-1.0, 1.0, 1.0, 1.0]))
    with pytest.raises(addon.ArmatureError, match="scale of 0"):
        addon.calibrate(bones, mapping, m @ np.diag([1.0, 0.0, 1.0, 1.0]))


POSES = {
    "t_pose": {},
    "arms_down_knee_bent": {
        "LeftUpperArm": R.from_euler("z", -80, degrees=True),
        "RightUpperArm": R.from_euler("z", 80, degrees=True),
        "LeftUpperLeg": R.from_euler("x", -90, degrees=True),  # thigh forward
        "LeftLowerLeg": R.from_euler("x", 90, degrees=True),  # shin straight down again
    },
    "turned_arm_forward": {
        "Hips": R.from_euler("y", 90, degrees=True),  # the body turns to its left
        "LeftUpperArm": R.from_euler("y", -90, degrees=True),  # left arm points forward
        "Spine": R.from_euler("x", 20, degrees=True),
    },
}


@pytest.mark.parametrize("pose", sorted(POSES))
@pytest.mark.parametrize("feet", ["floor", "stream"])
def test_solved_pose_evaluates_to_the_performers_directions(addon, pose, feet):  # noqa: F811
    """Every driven bone points where the performer's bone points (T-pose directions turned by the
    performer's global rotation and the rig's facing), in world, after Blender's own formula with
    the object's scale and rotation, though an unmapped bone between Hips and Spine is posed
    askew; the IK feet sit at the lower legs' ends; the hips move by the scaled displacement; the
    lower foot is on the floor ("floor") or as high as the standard body's ("stream")."""
    bones, m = _rig()
    cal = addon.calibrate(bones, addon.auto_map([b[0] for b in bones])[1], m)
    rots = POSES[pose]
    hips = (0.2, -0.1, 1.0)  # 0.2 m to the performer's left, 0.1 m forward, 7 cm above standing height
    basis, posed = addon.solve_pose(cal, _frame(addon, rots, hips), CURRENT, True, feet)
    assert set(basis) == set(cal.mapping.values())
    world = _blender_evaluate(bones, basis, CURRENT, m)
    for b, (head, _) in world.items():  # the solver's own forward pass agrees with Blender's formula
        np.testing.assert_allclose(addon.affine_apply(cal.matrix, posed[b][1]), head, atol=1e-9)
    glob = {}
    for b, p, _, _ in addon.SKELETON:
        glob[b] = (glob[p] if p else R.identity()) * rots.get(b, R.identity())
    turn = TURN * R.from_euler("x", 90, degrees=True)  # rig frame -> Blender axes -> the rig's facing
    for a, c in [
        ("LeftUpperArm", "LeftLowerArm"),
        ("LeftLowerArm", "LeftHand"),
        ("RightUpperArm", "RightLowerArm"),
        ("LeftUpperLeg", "LeftLowerLeg"),
        ("LeftLowerLeg", "LeftFoot"),
        ("RightLowerLeg", "RightFoot"),
        ("Spine", "Chest"),
    ]:
        # Limbs point along the T-pose offset turned by the performer; the torso keeps its rest
        # direction (straight up here), turned the same way.
        offset = next(o for n, _, o, _ in addon.SKELETON if n == c) if a != "Spine" else (0.0, 1.0, 0.0)
        want = (turn * glob[a]).apply(offset)
        got = world[c][0] - world[a][0]
        np.testing.assert_allclose(_unit(got), _unit(want), atol=1e-9, err_msg=f"{pose} {a}->{c}")
    # Feet keep their rest orientation, changed by the performer's foot rotation (flat stays flat).
    u, _, vt = np.linalg.svd(m[:3, :3])
    object_rotation = R.from_matrix(u @ vt)
    for s in SIDES:
        rest_q = next(q for n, _, q, _ in bones if n == f"{s}Foot")
        delta = world[f"{s}Foot"][1] * (object_rotation * R.from_quat(rest_q)).inv()
        want = turn * glob[f"{s}Foot"] * turn.inv()
        assert (delta * want.inv()).magnitude() < 1e-9, s
    # IK feet were carried to the lower legs' ends (their rest offset from the knee, turned with the shin).
    for s in SIDES:
        shin = world[f"{s}Foot"][0] - world[f"{s}LowerLeg"][0]
        rest = RIG_SCALE * 100 * np.linalg.norm(np.subtract(_REST_POINTS[f"{s}Foot"], _REST_POINTS[f"{s}LowerLeg"]))
        assert np.linalg.norm(shin) == pytest.approx(rest / 100, rel=1e-9)
    # Hips: horizontally the scaled displacement turned by the facing.
    rest_hips = TURN.apply(RIG_SCALE * np.array(_REST_POINTS["Hips"])) + m[:3, 3]
    moved = world["Hips"][0] - rest_hips
    want = TURN.apply([cal.scale * 0.2, cal.scale * -0.1, 0.0])
    np.testing.assert_allclose(moved[:2], want[:2], atol=1e-9)
    # Feet: the lower sole joint at its rest height ("floor"), or as high as the standard body's ("stream").
    clearance = min(world[b][0][2] - cal.soles[b] for b in addon.SOLE_BONES)
    g = addon.global_rotations(_frame(addon, rots, hips).local)
    sent = addon.standard_clearance(g, hips)
    assert sent == pytest.approx(0.07, abs=1e-9)  # a straight leg under hips 7 cm above standing
    assert clearance == pytest.approx(0.0 if feet == "floor" else cal.scale * sent, abs=1e-9)
