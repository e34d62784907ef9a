"""The Blender add-on's fingers, eyes and shape keys (issue 17).

Without Blender: the add-on's copies of arpose's finger and eye bones, the finger and eye names of
each naming scheme, what ``/VMC/Ext/Blend/Val`` and ``/VMC/Ext/Blend/Apply`` do to the receiver's
state, and which shape key each expression name drives.

With real ``bpy`` (slow, one subprocess): VMC datagrams built with arpose's own OSC encoder
(``encode_message`` / ``encode_bundle``, the protocol any VMC sender speaks), sent over loopback
UDP to the add-on's receiver and applied by ``pump(scene)`` to

* a Mixamo-named armature built as Blender imports Mixamo's FBX (object turned 90 degrees about
  X and scaled 0.01, bones in centimetres, Y up, random bone rolls, thumbs pointing down at
  rest), with finger and eye bones and a mesh with shape keys bound by an Armature modifier;
* the same armature without fingers (finger datagrams ignored);
* Blender's own Rigify human metarig (``f_index.01.L``, ``thumb.01.L``, ``eye.L`` ...;
  bent rest fingers, arms sloping down);
* RobotExpressive as Blender's glTF importer makes it (two-segment fingers on palm bones, and
  its 9 morph targets: Angry, Surprised and Sad on each of three head meshes).

Known answers from forward kinematics: the performer's hand is the T-pose hand (palm down,
fingers along the arm, the rig's left = world +X, down = world -Z), so an index finger whose
first joint turns 90 degrees towards the palm points straight down from its knuckle, one bent
30 degrees at each of its three joints ends where the three segments laid at 30, 60 and 90
degrees put its tip, and a flat hand leaves a T-pose rig's fingertip where it was at rest.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from arpose.broadcast.osc import encode_bundle, encode_message
from arpose.skeleton import EYE_BONES, FINGER_BONE_NAMES, FINGER_BONES

sys.path.insert(0, str(Path(__file__).parent))
from test_blender_addon import _PRELUDE, _run_in_blender, addon  # noqa: E402, F401

SIDES = ("Left", "Right")


# ------------------------------------------------------------------------------------------------
# Without Blender.
# ------------------------------------------------------------------------------------------------


def test_finger_and_eye_bones_are_arposes(addon):  # noqa: F811
    """The add-on's copy of arpose.skeleton's finger and eye bones: names, parents, offsets, ends."""
    for rows, bones in ((addon.FINGER_SKELETON, FINGER_BONES), (addon.EYE_SKELETON, EYE_BONES)):
        assert [r[0] for r in rows] == [b.name for b in bones]
        for (name, parent, off, end), b in zip(rows, bones):
            assert parent == b.parent, name
            np.testing.assert_allclose(off, b.offset, atol=1e-12, err_msg=name)
            assert (end is None) == (b.end is None), name
            if end is not None:
                np.testing.assert_allclose(end, b.end, atol=1e-12, err_msg=name)
    assert addon.HUMANOID_BONES[22:52] == FINGER_BONE_NAMES and len(addon.HUMANOID_BONES) == 54


def test_vrm1_names_are_those_the_vmc_avatar_reader_uses(addon):  # noqa: F811
    """The add-on's VRM 1.0 scheme (a standalone copy) names every bone as
    arpose.broadcast.avatar does when it reads a VRM 1.0 file's humanoid table."""
    from arpose.broadcast.avatar import VRM1_DETAIL_NAMES

    vrm1 = addon.NAME_SCHEMES["vrm1_humanoid"]
    for bone, name in VRM1_DETAIL_NAMES.items():
        assert vrm1[bone][0].lower() == name.lower(), bone
    renamed = {b for b, (n,) in vrm1.items() if n != b}
    assert renamed == {b for b, n in VRM1_DETAIL_NAMES.items() if n.lower() != b.lower()}


def _mixamo_hand(side):
    return [f"mixamorig:{side}Hand{f}{n}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for n in "1234"]


# Real rigs' bone names (fingers and eyes). Mixamo: its FBX skeleton (with the ...4 end bones);
# VRoid: VRoid Studio's VRM export; Rigify: Blender's human metarig (checked in bpy below);
# Character Creator: CC3/CC4 exports; Unreal: the UE4 mannequin.
FINGER_RIGS = {
    "mixamo": (
        ["mixamorig:Hips", "mixamorig:Spine", "mixamorig:Head", "mixamorig:LeftEye", "mixamorig:RightEye"]
        + [f"mixamorig:{s}{b}" for s in SIDES for b in ("Shoulder", "Arm", "ForeArm", "Hand")]
        + _mixamo_hand("Left")
        + _mixamo_hand("Right"),
        {
            "LeftIndexProximal": "mixamorig:LeftHandIndex1",
            "LeftLittleDistal": "mixamorig:LeftHandPinky3",
            "RightThumbIntermediate": "mixamorig:RightHandThumb2",
            "LeftEye": "mixamorig:LeftEye",
        },
    ),
    "vrm": (
        ["J_Bip_C_Hips", "J_Bip_C_Head", "J_Adj_L_FaceEye", "J_Adj_R_FaceEye"]
        + [f"J_Bip_{s}_{b}" for s in "LR" for b in ("Shoulder", "UpperArm", "LowerArm", "Hand")]
        + [f"J_Bip_{s}_{f}{n}" for s in "LR" for f in ("Thumb", "Index", "Middle", "Ring", "Little") for n in "123"],
        {"LeftIndexProximal": "J_Bip_L_Index1", "RightLittleDistal": "J_Bip_R_Little3", "RightEye": "J_Adj_R_FaceEye"},
    ),
    "rigify": (
        ["spine", "spine.001", "spine.006", "face", "eye.L", "eye.R"]
        + [f"{b}.{s}" for s in "LR" for b in ("shoulder", "upper_arm", "forearm", "hand", "palm.01")]
        + [f"{f}.0{n}.{s}" for s in "LR" for f in ("thumb", "f_index", "f_middle", "f_ring", "f_pinky") for n in "123"],
        {"LeftIndexProximal": "f_index.01.L", "LeftThumbDistal": "thumb.03.L", "RightLittleProximal": "f_pinky.01.R"},
    ),
    "character_creator": (
        ["CC_Base_Hip", "CC_Base_Head", "CC_Base_L_Eye", "CC_Base_R_Eye"]
        + [f"CC_Base_{s}_{b}" for s in "LR" for b in ("Clavicle", "Upperarm", "Forearm", "Hand")]
        + [f"CC_Base_{s}_{f}{n}" for s in "LR" for f in ("Thumb", "Index", "Mid", "Ring", "Pinky") for n in "123"],
        {"LeftMiddleProximal": "CC_Base_L_Mid1", "RightRingDistal": "CC_Base_R_Ring3", "LeftEye": "CC_Base_L_Eye"},
    ),
    "unreal": (
        ["pelvis", "head"]
        + [f"{b}_{s}" for s in "lr" for b in ("clavicle", "upperarm", "lowerarm", "hand")]
        + [f"{f}_0{n}_{s}" for s in "lr" for f in ("thumb", "index", "middle", "ring", "pinky") for n in "123"],
        {"LeftIndexProximal": "index_01_l", "RightLittleDistal": "pinky_03_r"},
    ),
}


@pytest.mark.parametrize("scheme", sorted(FINGER_RIGS))
def test_auto_map_finds_every_finger_and_eye(addon, scheme):  # noqa: F811
    names, some = FINGER_RIGS[scheme]
    found, mapping = addon.auto_map(names)
    assert found == scheme
    assert all(f in mapping for f in FINGER_BONE_NAMES), sorted(set(FINGER_BONE_NAMES) - set(mapping))
    assert {b: mapping[b] for b in some} == some
    assert ("LeftEye" in mapping) == (scheme != "unreal")
    for bone, name in mapping.items():  # Left is the subject's left in every scheme
        if bone.startswith("Left"):
            assert "Right" not in name and not name.endswith(("_R", ".R", "_r")) and "_R_" not in name, name


def test_vrm1_humanoid_names_put_the_thumb_one_joint_along(addon):  # noqa: F811
    """VRM 1.0 calls the thumb's bones Metacarpal / Proximal / Distal where Unity (and VRM 0.x)
    say Proximal / Intermediate / Distal: a rig named by VRM 1.0 gets each thumb joint on the
    bone of the same joint, not the next one."""
    body = ["hips", "spine", "chest", "neck", "head", "leftUpperArm", "leftLowerArm", "leftHand"]
    body += ["rightUpperArm", "rightLowerArm", "rightHand", "leftUpperLeg", "rightUpperLeg"]
    fingers = [
        f"{side}{finger}{joint}"
        for side in ("left", "right")
        for finger, joints in (
            ("Thumb", ("Metacarpal", "Proximal", "Distal")),
            ("Index", ("Proximal", "Intermediate", "Distal")),
            ("Little", ("Proximal", "Intermediate", "Distal")),
        )
        for joint in joints
    ]
    scheme, mapping = addon.auto_map(body + fingers)
    assert scheme == "vrm1_humanoid"
    assert mapping["LeftThumbProximal"] == "leftThumbMetacarpal"
    assert mapping["LeftThumbIntermediate"] == "leftThumbProximal"
    assert mapping["RightThumbDistal"] == "rightThumbDistal"
    assert mapping["LeftIndexProximal"] == "leftIndexProximal" and mapping["Hips"] == "hips"
    # a VRM 0.x / Unity-named rig keeps the humanoid scheme, thumb included
    vrm0 = body + [f"left{f}{j}" for f in ("Thumb", "Index") for j in ("Proximal", "Intermediate", "Distal")]
    scheme, mapping = addon.auto_map(vrm0)
    assert scheme == "humanoid" and mapping["LeftThumbProximal"] == "leftThumbProximal"


def test_robot_expressive_fingers_are_its_two_segment_fingers(addon):  # noqa: F811
    bones = ["Body", "Hips", "Head_1", "LowerArmL", "Palm1L", "IndexL", "Index2L", "ThumbL", "Thumb2L", "Palm3L"]
    bones += ["Ring1L", "Ring2L", "Middle1L", "Middle2L", "ShoulderL", "UpperArmL", "UpperLegL", "LowerLegL"]
    scheme, mapping = addon.auto_map(bones)
    assert scheme == "robot_expressive"
    fingers = {b: n for b, n in mapping.items() if b in FINGER_BONE_NAMES}
    assert fingers == {
        "LeftThumbProximal": "ThumbL",
        "LeftThumbIntermediate": "Thumb2L",
        "LeftIndexProximal": "IndexL",
        "LeftIndexIntermediate": "Index2L",
        "LeftMiddleProximal": "Middle1L",
        "LeftMiddleIntermediate": "Middle2L",
        "LeftRingProximal": "Ring1L",
        "LeftRingIntermediate": "Ring2L",
    }


def test_bone_map_files_carry_fingers_and_eyes(addon):  # noqa: F811
    mapping = {
        "Hips": "mixamorig:Hips",
        "LeftIndexDistal": "mixamorig:LeftHandIndex3",
        "RightEye": "mixamorig:RightEye",
    }
    assert addon.map_from_json(addon.map_to_json(mapping)) == mapping


def _state_after(addon, *messages):  # noqa: F811
    st = addon.PoseState()
    for m in messages:
        for address, args in addon.parse_packet(m):
            st.handle(address, args)
    return st


def test_blend_values_wait_for_apply(addon):  # noqa: F811
    """Val stores (clamped to [0, 1]), Apply moves the waiting values into ``blend``; a Val without
    Apply changes nothing applied; NaN, non-text names and non-numbers are ignored; the values
    travel with each completed frame."""
    val = encode_message
    st = _state_after(
        addon,
        encode_bundle(
            [
                val("/VMC/Ext/Blend/Val", "Blink_L", 0.75),
                val("/VMC/Ext/Blend/Val", "A", 1.5),
                val("/VMC/Ext/Blend/Val", "Joy", -0.2),
                val("/VMC/Ext/Blend/Val", "Angry", float("nan")),
                val("/VMC/Ext/Blend/Val", "O", "much"),
                val("/VMC/Ext/Blend/Val", 3, 0.5),
            ]
        ),
    )
    assert st.blend == {} and st.blend_applies == 0  # nothing applied yet
    assert st.blend_pending == {"Blink_L": 0.75, "A": 1.0, "Joy": 0.0}
    st.handle("/VMC/Ext/Blend/Apply", ())
    assert st.blend == {"Blink_L": 0.75, "A": 1.0, "Joy": 0.0} and st.blend_pending == {} and st.blend_applies == 1
    st.handle("/VMC/Ext/Blend/Val", ("Blink_L", 0.25))  # no Apply: the applied value stays
    st.handle("/VMC/Ext/T", (1.0,))
    (frame,) = st.take_frames()
    assert frame.blend == {"Blink_L": 0.75, "A": 1.0, "Joy": 0.0}
    st.handle("/VMC/Ext/Blend/Apply", ())
    assert st.blend["Blink_L"] == 0.25 and st.blend["A"] == 1.0 and st.blend_applies == 2


def test_blend_names_are_bounded(addon):  # noqa: F811
    st = addon.PoseState()
    for k in range(addon.MAX_EXPRESSIONS + 50):
        st.handle("/VMC/Ext/Blend/Val", (f"x{k}", 1.0))
        if k % 100 == 0:
            st.handle("/VMC/Ext/Blend/Apply", ())
    st.handle("/VMC/Ext/Blend/Apply", ())
    assert len(st.blend) == addon.MAX_EXPRESSIONS
    st.handle("/VMC/Ext/Blend/Val", ("x0", 0.5))  # a known name still updates
    st.handle("/VMC/Ext/Blend/Apply", ())
    assert st.blend["x0"] == 0.5


def test_shape_key_matching_exact_then_aliases(addon):  # noqa: F811
    """Exact names first (case-sensitive), then the alias rows (case-insensitive, the first of the
    row's names the mesh has); unknown names are left out."""
    vroid = ["Basis", "Fcl_EYE_Close_L", "Fcl_EYE_Close_R", "Fcl_MTH_A", "Fcl_ALL_Joy", "Fcl_ALL_Angry"]
    sent0 = ["Blink_L", "Blink_R", "A", "I", "Joy", "Angry", "Surprised", "Unknown"]
    assert addon.match_shape_keys(sent0, vroid) == {
        "Blink_L": "Fcl_EYE_Close_L",
        "Blink_R": "Fcl_EYE_Close_R",
        "A": "Fcl_MTH_A",
        "Joy": "Fcl_ALL_Joy",
        "Angry": "Fcl_ALL_Angry",
    }
    sent1 = ["blinkLeft", "blinkRight", "aa", "ih", "ou", "ee", "oh", "happy", "angry", "surprised"]
    vrchat = ["vrc.blink_left", "vrc.blink_right", "vrc.v_aa", "vrc.v_ih", "vrc.v_ou", "vrc.v_e", "vrc.v_oh"]
    assert addon.match_shape_keys(sent1, vrchat) == dict(zip(sent1[:7], vrchat))
    arkit = ["eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthSmile"]
    assert addon.match_shape_keys(sent0, arkit) == {
        "Blink_L": "eyeBlinkLeft",
        "Blink_R": "eyeBlinkRight",
        "A": "jawOpen",
        "Joy": "mouthSmile",
    }
    # Exact is case-sensitive; a key differing in case is reached through its row (case-insensitive).
    assert addon.match_shape_keys(["Angry", "angry", "ANGRY"], ["Angry"]) == {
        "Angry": "Angry",
        "angry": "Angry",
        "ANGRY": "Angry",
    }
    assert addon.match_shape_keys(["MyBrow"], ["MyBrow", "mybrow"]) == {"MyBrow": "MyBrow"}
    assert addon.match_shape_keys(["mybrow2"], ["MyBrow2"]) == {}  # not in the table: exact only
    # Exact beats an alias landing on the same key; otherwise the larger value.
    assert addon.shape_key_values({"blinkRight": 0.9, "Blink_R": 0.6}, ["Blink_R", "blink_right"]) == {"Blink_R": 0.6}
    assert addon.shape_key_values({"Joy": 0.2, "happy": 0.7}, ["mouthSmile"]) == {"mouthSmile": 0.7}
    assert addon.shape_key_values({"A": 3.0}, ["aa"]) == {"aa": 1.0}


def test_expression_rows_are_unambiguous(addon):  # noqa: F811
    """No name (case-insensitive) is in two rows, and the VRM 0 and VRM 1 names arpose sends are."""
    names = [n.lower() for row in addon.EXPRESSIONS for n in {n.lower() for n in row}]
    assert len(names) == len(set(names))
    from arpose.broadcast.vmc import BLEND_SHAPE_TABLE  # the sender's one table: the add-on's copy may not drift

    assert len(BLEND_SHAPE_TABLE) == 10
    for _, a, b in BLEND_SHAPE_TABLE:
        row = next(r for r in addon.EXPRESSIONS if a in r)
        assert b in row and row[0] == a


def _person_with_hands_and_face():
    """A Person whose left index is curled 90 degrees at its first joint (right hand not seen),
    left eye turned 20 degrees to the left, and some expressions."""
    from scipy.spatial.transform import Rotation as R

    from arpose.retarget.face import Expression, FaceFeatures, FacePose
    from arpose.retarget.fingers import HandsPose
    from arpose.skeleton import FINGER_BONE_INDEX, NUM_FINGER_BONES
    from arpose.types import Person

    fq = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_FINGER_BONES, 1))
    fq[FINGER_BONE_INDEX["LeftIndexProximal"]] = R.from_euler("z", -90, degrees=True).as_quat()
    fingers = HandsPose(fq, np.array([True, False]), (None, None), np.full((2, 4), np.nan))
    w = np.zeros(len(Expression))
    w[Expression.BLINK_LEFT], w[Expression.SMILE], w[Expression.BROWS_DOWN] = 0.8, 0.3, 0.45
    feats = FaceFeatures(np.array([0.3, 0.3]), 0.0, 0.8, 0.0, np.array([0.32, 0.32]), np.zeros((2, 2)))
    eyes = np.array([R.from_euler("y", 20, degrees=True).as_quat(), [0.0, 0.0, 0.0, 1.0]])
    face = FacePose(np.array([0.0, 0.0, 0.0, 1.0]), eyes, 0.0, w, feats)
    lm = np.full((33, 5), 0.5, np.float32)
    return Person(0, lm, np.zeros((33, 3), np.float32), 0.9, fingers=fingers, face_pose=face), fq, eyes


def test_raw_stream_fingers_eyes_and_expressions(addon):  # noqa: F811
    """arpose's raw OSC stream (``--osc``, its own encoder): ``/arpose/person/fingers`` gives the
    seen hand's 15 bones (the unseen hand's NaN leave it as it was), ``/eyes`` the eye bones,
    ``/expressions`` the weights as one Val set and Apply, whose names reach keys through the
    alias rows (blink_left -> Fcl_EYE_Close_L, smile -> mouthSmile, brows_down -> Angry)."""
    from arpose.broadcast.raw import hands_face_messages

    person, fq, eyes = _person_with_hands_and_face()
    st = _state_after(addon, encode_bundle(hands_face_messages(person)))
    fingers = {b for b in st.local if b in addon.FINGER_BONES}
    assert fingers == {b for b in FINGER_BONE_NAMES if b.startswith("Left")}
    for k, name in enumerate(FINGER_BONE_NAMES[:15]):
        np.testing.assert_allclose(st.local[name], addon.rig_to_blender_quat(fq[k]), atol=1e-6, err_msg=name)
    for k, name in enumerate(addon.EYE_BONES):
        np.testing.assert_allclose(st.local[name], addon.rig_to_blender_quat(eyes[k]), atol=1e-6)
    assert st.blend_applies == 1 and st.blend["blink_left"] == pytest.approx(0.8)
    keys = ["Fcl_EYE_Close_L", "mouthSmile", "Angry", "Fcl_MTH_A"]
    assert addon.shape_key_values(st.blend, keys) == pytest.approx(
        {"Fcl_EYE_Close_L": 0.8, "mouthSmile": 0.3, "Angry": 0.45, "Fcl_MTH_A": 0.0}
    )
    st1 = addon.PoseState(1)  # a receiver following person 1 ignores person 0's messages
    for address, args in addon.parse_packet(encode_bundle(hands_face_messages(person))):
        st1.handle(address, args)
    assert st1.local == {} and st1.blend == {}


# ------------------------------------------------------------------------------------------------
# In real Blender.
# ------------------------------------------------------------------------------------------------

_RIG_HELPERS = r"""
import math, random
import numpy as np
from mathutils import Matrix, Vector
from scipy.spatial.transform import Rotation as R
from arpose.broadcast.osc import encode_bundle, encode_message
from arpose.skeleton import rig_to_unity_quaternion

random.seed(5)
scene.render.fps = 30
robot_path = sys.argv[2]
to_arm = Matrix.Rotation(-math.pi / 2, 4, "X")  # world (Z up) -> Mixamo armature space (Y up), then cm

def mixamo_rig(name, fingers=True, thumb_down=0.6):
    '''A Mixamo-named armature as Blender imports Mixamo's FBX: bones in cm, Y up, the object
    turned 90 degrees about X and scaled 0.01; the arpose T-pose with Mixamo's names.'''
    data = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, data)
    scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    obj.rotation_euler = (math.pi / 2, 0.0, 0.0)
    obj.scale = (0.01, 0.01, 0.01)
    bpy.ops.object.mode_set(mode="EDIT")
    joints = m.rest_joints_blender()
    names = dict(m.RIG_BONE_NAMES["mixamo"], **m.EXTRA_BONE_NAMES["mixamo"])
    rows = m.SKELETON + (m.FINGER_SKELETON if fingers else ()) + m.EYE_SKELETON
    for bone, parent, _, _ in rows:
        head, tail = (Vector(p) for p in joints[bone])
        if "Thumb" in bone:  # Mixamo's thumbs point forward and down at rest
            hand = Vector(joints[bone[: bone.index("Thumb")] + "Hand"][0])
            rot = Matrix.Rotation(thumb_down if bone.startswith("Left") else -thumb_down, 4, "Y")
            head, tail = hand + rot @ (head - hand), hand + rot @ (tail - hand)
        eb = data.edit_bones.new("mixamorig:" + names[bone])
        eb.head, eb.tail = (to_arm @ head) * 100.0, (to_arm @ tail) * 100.0
        eb.roll = random.uniform(-math.pi, math.pi)
        if parent:
            eb.parent = data.edit_bones["mixamorig:" + names[parent]]
    if fingers:  # Mixamo's finger end bones (...4), at the fingertips
        for s in ("Left", "Right"):
            for f, mf in zip(m.FINGER_NAMES, ("Thumb", "Index", "Middle", "Ring", "Pinky")):
                d = data.edit_bones[f"mixamorig:{s}Hand{mf}3"]
                eb = data.edit_bones.new(f"mixamorig:{s}Hand{mf}4")
                eb.head, eb.tail = d.tail, d.tail + (d.tail - d.head) * 0.3
                eb.parent = d
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj

def face_mesh(name, rig, keys):
    '''A mesh bound to ``rig`` by an Armature modifier only (not parented), with shape keys.'''
    me = bpy.data.meshes.new(name)
    me.from_pydata([(0, 0, 1.6), (0.1, 0, 1.6), (0, 0, 1.7)], [], [(0, 1, 2)])
    ob = bpy.data.objects.new(name, me)
    scene.collection.objects.link(ob)
    ob.modifiers.new("Armature", "ARMATURE").object = rig
    ob.shape_key_add(name="Basis")
    for k in keys:
        ob.shape_key_add(name=k)
    return ob

def unity(q_rig):
    return [float(c) for c in rig_to_unity_quaternion(np.asarray(q_rig))]

def curl(side, degrees):
    '''Local rotation (rig frame) bending a finger joint towards the palm (palm down: -Y).'''
    return R.from_euler("z", -degrees if side == "Left" else degrees, degrees=True).as_quat()

"""

_IN_BLENDER_HANDS = (
    _PRELUDE
    + r"""
"""
    + _RIG_HELPERS
    + r"""
clock = [0.0]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

def send(local=None, blends=(), apply=True, pose=True):
    '''One VMC frame: root, every body bone at identity (the T-pose), Hips at 0.93 m, the
    rotations ``local`` (rig frame) for any bone, then expressions and Apply, then the time.'''
    msgs = []
    if pose:
        msgs.append(encode_message("/VMC/Ext/Root/Pos", "root", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0))
        rots = {b: (0.0, 0.0, 0.0, 1.0) for b in m.BODY_BONES}
        rots.update(local or {})
        for b, q in rots.items():
            p = (0.0, 0.93, 0.0) if b == "Hips" else (0.0, 0.0, 0.0)
            msgs.append(encode_message("/VMC/Ext/Bone/Pos", b, *p, *unity(q)))
    for name, v in blends:
        msgs.append(encode_message("/VMC/Ext/Blend/Val", name, float(v)))
    if apply:
        msgs.append(encode_message("/VMC/Ext/Blend/Apply"))
    if pose:
        clock[0] += 1 / 30
        msgs.append(encode_message("/VMC/Ext/T", clock[0]))
    sock.sendto(encode_bundle(msgs), ("127.0.0.1", s.port))
    time.sleep(0.05)
    n = m.pump(scene)
    bpy.context.view_layer.update()
    return n

def world(obj, bone, end="head"):
    pb = obj.pose.bones[bone]
    return list(obj.matrix_world @ getattr(pb, end))

def chain(obj, names, tip=None):
    '''World heads of the bones ``names``, then ``tip`` (a bone's head) or the last bone's tail.'''
    pts = [world(obj, n) for n in names]
    pts.append(world(obj, tip) if tip else world(obj, names[-1], "tail"))
    return pts

out = {}
s.port, s.move_root = free_port(), False
m.start(scene)

# 1. Mixamo-named rig with fingers, eyes and a face mesh.
mx = mixamo_rig("Mixamo")
face = face_mesh("Face", mx, ["Fcl_EYE_Close_L", "vrc.v_aa", "mouthSmile", "Blink_R", "blink_right", "Angry"])
s.armature = mx
def mixamo_index(obj):
    return {s_: chain(obj, [f"mixamorig:{s_}HandIndex{k}" for k in (1, 2, 3)], f"mixamorig:{s_}HandIndex4")
            for s_ in ("Left", "Right")}

out["mixamo_rest"] = mixamo_index(mx)
out["mixamo_eye_rest"] = [world(mx, "mixamorig:LeftEye"), world(mx, "mixamorig:LeftEye", "tail")]
poses = {
    "flat": {},
    "proximal90": {f"{s_}IndexProximal": curl(s_, 90) for s_ in ("Left", "Right")},
    "each30": {f"{s_}Index{p}": curl(s_, 30) for s_ in ("Left", "Right") for p in m.PHALANGES},
}
fingers_all = {f: (0.0, 0.0, 0.0, 1.0) for f in m.FINGER_BONES}
look_left = R.from_euler("y", 20, degrees=True).as_quat()  # rig frame: forward (+Z) turns to the left (+X)
for key, local in poses.items():
    out[f"mixamo_{key}_frames"] = send(dict(fingers_all, **local, LeftEye=look_left))
    out[f"mixamo_{key}"] = mixamo_index(mx)
out["mixamo_eye"] = [world(mx, "mixamorig:LeftEye"), world(mx, "mixamorig:LeftEye", "tail")]
out["mixamo_map"] = {h: b for h, b in m.bone_map(mx).items()}
out["mixamo_status"] = s.status

# Shape keys: Val + Apply set them; Val alone does not; unknown names are ignored.
kb = face.data.shape_keys.key_blocks
send(blends=[("Blink_L", 0.8), ("A", 1.5), ("Joy", 0.3), ("Blink_R", 0.6), ("blinkRight", 0.9),
             ("angry", 0.45), ("Unknown", 1.0)], pose=False)
out["keys_applied"] = {k.name: k.value for k in kb}
send(blends=[("Blink_L", 0.1), ("Angry", 0.9)], apply=False, pose=False)
out["keys_val_only"] = {k.name: k.value for k in kb}
send(pose=False)  # the Apply alone
out["keys_after_apply"] = {k.name: k.value for k in kb}
out["keys_status"] = s.status

# 2. The same rig without fingers: finger rotations arrive and are ignored.
bare = mixamo_rig("Bare", fingers=False)
s.armature = bare
out["bare_frames"] = send(dict(fingers_all, **poses["proximal90"]))
out["bare_driven"] = len(m.bone_map(bare))
out["bare_status"] = s.status

# 3. Blender's Rigify human metarig.
import addon_utils
addon_utils.enable("rigify", default_set=True)
bpy.ops.object.armature_human_metarig_add()
meta = bpy.context.object
s.armature = meta
bpy.context.view_layer.update()
mr = [f"f_index.0{k}.L" for k in (1, 2, 3)]
out["meta_rest"] = chain(meta, mr)
for key in ("flat", "proximal90"):
    out[f"meta_{key}_frames"] = send(dict(fingers_all, **poses[key]))
    out[f"meta_{key}"] = chain(meta, mr)
out["meta_scheme"] = meta.arpose_bone_map.scheme
out["meta_map"] = m.bone_map(meta)

# 4. RobotExpressive as Blender's glTF importer makes it.
before = set(bpy.data.objects)
bpy.ops.import_scene.gltf(filepath=robot_path)
robot = next(o for o in bpy.data.objects if o not in before and o.type == "ARMATURE")
s.armature = robot
rr = ["IndexL", "Index2L"]
for key in ("flat", "proximal90"):
    send(dict(fingers_all, **poses[key]))
    out[f"robot_{key}"] = chain(robot, rr)
out["robot_fingers"] = {h: b for h, b in m.bone_map(robot).items() if h in m.FINGER_BONES}
meshes = m.bound_meshes(robot)
out["robot_shape_keys"] = {o.name: [k.name for k in o.data.shape_keys.key_blocks] for o in meshes if o.data.shape_keys}
send(blends=[("Angry", 0.7), ("surprised", 1.3), ("sad", 0.4), ("Joy", 1.0), ("Blink_L", 1.0)], pose=False)
out["robot_applied"] = {o.name: {k.name: k.value for k in o.data.shape_keys.key_blocks}
                        for o in meshes if o.data.shape_keys}
send(blends=[("Angry", 0.2)], apply=False, pose=False)
out["robot_val_only"] = {o.name: o.data.shape_keys.key_blocks["Angry"].value for o in meshes if o.data.shape_keys}
m.stop(scene)

# 5. arpose's own VMC sender (VmcSink): fingers, eyes and expressions of a Person, VRM 0 names to
# the Mixamo rig and its face mesh, VRM 1 names to RobotExpressive; a fresh receiver each.
from arpose.broadcast.vmc import VmcSink
from arpose.retarget.body import BodyPose
from arpose.retarget.face import Expression, FaceFeatures, FacePose
from arpose.retarget.fingers import HandsPose
from arpose.skeleton import FINGER_BONE_INDEX, NUM_BONES, NUM_FINGER_BONES, REST_OFFSETS, forward_kinematics
from arpose.types import Frame, Person, PoseFrame

def person():
    q = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    root = np.array([0.0, 0.93, -3.0])
    body = BodyPose(q, root, forward_kinematics(q, root)[0], REST_OFFSETS.copy(), np.ones(NUM_BONES))
    fq = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_FINGER_BONES, 1))
    fq[FINGER_BONE_INDEX["LeftIndexProximal"]] = curl("Left", 90)
    for p_ in m.PHALANGES:
        fq[FINGER_BONE_INDEX[f"RightIndex{p_}"]] = curl("Right", 30)
    fingers = HandsPose(fq, np.array([True, True]), (None, None), np.full((2, 4), np.nan))
    w = np.zeros(len(Expression))
    w[Expression.BLINK_LEFT], w[Expression.A], w[Expression.SMILE] = 0.8, 0.5, 0.3
    w[Expression.BROWS_DOWN], w[Expression.BROWS_UP] = 0.45, 0.65
    feats = FaceFeatures(np.array([0.3, 0.3]), 0.0, 0.8, 0.0, np.array([0.32, 0.32]), np.zeros((2, 2)))
    eyes = np.array([look_left, [0.0, 0.0, 0.0, 1.0]])
    face = FacePose(np.array([0.0, 0.0, 0.0, 1.0]), eyes, 0.0, w, feats)
    lm = np.full((33, 5), 0.5, np.float32)
    return Person(0, lm, np.zeros((33, 3), np.float32), 0.9, body=body, fingers=fingers, face_pose=face)

face.data.shape_keys.key_blocks["Angry"].keyframe_insert("value", frame=1)  # an animation the user had
users_face_action = face.data.shape_keys.animation_data.action.name
for key, rig, names in (("sink_mixamo", mx, "vrm0"), ("sink_robot", robot, "vrm1")):
    s.port, s.armature, s.record = free_port(), rig, key == "sink_mixamo"
    rig.pose.bones.foreach_set("rotation_quaternion", [1.0, 0.0, 0.0, 0.0] * len(rig.pose.bones))
    for o in m.bound_meshes(rig):  # what parts 1 and 4 set
        for kb in o.data.shape_keys.key_blocks if o.data.shape_keys else ():
            kb.value = 0.0
    m.start(scene)
    sink = VmcSink("127.0.0.1", s.port, expressions=names)
    for k in range(2):
        sink.write(PoseFrame(Frame(np.zeros((2, 2, 3), np.uint8), k / 30, k), (person(),)))
    sink.close()
    time.sleep(0.2)
    out[key + "_frames"] = m.pump(scene)
    bpy.context.view_layer.update()
    out[key + "_status"] = s.status
    out[key + "_blend"] = m.receiver(scene).state.blend
    out[key + "_keys"] = {o.name: {k.name: k.value for k in o.data.shape_keys.key_blocks}
                          for o in m.bound_meshes(rig) if o.data.shape_keys}
    m.stop(scene)
s.record = False
fa = face.data.shape_keys.animation_data.action
out["face_take"] = fa.name
out["face_keyed"] = sorted({fc.data_path for fc in fa.fcurves})
out["face_frames"] = sorted({kp.co[0] for fc in fa.fcurves for kp in fc.keyframe_points})
out["face_kept"] = bpy.data.actions[users_face_action].use_fake_user and users_face_action != fa.name
out["body_take"] = mx.animation_data.action.name
scene.frame_set(2)
out["face_played"] = {k.name: k.value for k in face.data.shape_keys.key_blocks}
out["sink_mixamo_index"] = mixamo_index(mx)
out["sink_mixamo_eye"] = [world(mx, "mixamorig:LeftEye"), world(mx, "mixamorig:LeftEye", "tail")]
finish(out)
"""
)


_IN_BLENDER_MEDIA = (
    _PRELUDE
    + _RIG_HELPERS
    + r"""
import subprocess
# A real arpose run (argv after the add-on; PORT replaced) into the Mixamo-named rig and its face
# mesh; after every pump: the sender's time, the shape keys, each index finger's total curl.
rig = mixamo_rig("Mixamo")
face = face_mesh("Face", rig, ["Fcl_EYE_Close_L", "Fcl_EYE_Close_R", "Fcl_MTH_A", "Fcl_ALL_Joy", "Fcl_ALL_Surprised"])
s.port, s.move_root, s.armature = free_port(), False, rig
m.start(scene)

def curl_deg(side):
    # Angle between the hand bone and the index's last segment (0: straight; a fist: about 180).
    pb = rig.pose.bones
    hand = pb[f"mixamorig:{side}Hand"]
    tip = pb[f"mixamorig:{side}HandIndex3"]
    a, b = (hand.tail - hand.head).normalized(), (tip.tail - tip.head).normalized()
    return math.degrees(math.acos(max(-1.0, min(1.0, a.dot(b)))))

def sample():
    if m.pump(scene):
        bpy.context.view_layer.update()
        st = m.receiver(scene).state
        samples.append({"t": st.timestamp, "keys": {k.name: k.value for k in face.data.shape_keys.key_blocks},
                        "curl": {sd: curl_deg(sd) for sd in ("Left", "Right")},
                        "sent": sorted(b for b in st.local if b in m.FINGER_BONES or b in m.EYE_BONES)})

argv = [a.replace("PORT", str(s.port)) for a in sys.argv[2:]]
t0 = time.perf_counter()
proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
samples = []
while proc.poll() is None:
    sample()
    time.sleep(0.003)
end = time.monotonic() + 0.5
while time.monotonic() < end:
    sample()
    time.sleep(0.01)
err = proc.stderr.read().decode(errors="replace")
out = {"returncode": proc.returncode, "stderr": err[-1500:], "samples": samples, "seconds": time.perf_counter() - t0,
       "status": s.status, "bad_packets": m.receiver(scene).bad_packets}
m.stop(scene)
finish(out)
"""
)


@pytest.fixture(scope="module")
def hands(media):
    return _run_in_blender(_IN_BLENDER_HANDS, str(media / "models" / "RobotExpressive.glb"))


def _curled_tip(knuckle, lengths, angles, side):
    """Forward kinematics of a finger in the T-pose hand (world: the rig's left +X, down -Z): the
    tip after the finger's segments turn by the cumulative ``angles`` (degrees) towards the palm."""
    sx = 1.0 if side == "Left" else -1.0
    p, a = np.asarray(knuckle, float), 0.0
    for length, da in zip(lengths, angles):
        a += math.radians(da)
        p = p + length * np.array([sx * math.cos(a), 0.0, -math.sin(a)])
    return p


def _lengths(points):
    pts = np.asarray(points, float)
    return np.linalg.norm(np.diff(pts, axis=0), axis=1)


@pytest.mark.slow
def test_real_blender_index_curl_moves_the_fingertip_as_forward_kinematics_predicts(hands):
    """Mixamo-named rig (FBX-like transform, rolled bones): a flat hand leaves the index tip at
    rest; 90 degrees at the first joint points the finger straight down from its knuckle; 30
    degrees at each joint puts the tip where the segments at 30/60/90 degrees do (both hands)."""
    for side in SIDES:
        rest = np.asarray(hands["mixamo_rest"][side])
        lengths = _lengths(rest)
        np.testing.assert_allclose(hands["mixamo_flat"][side], rest, atol=1e-5)
        for key, angles in (("proximal90", (90, 0, 0)), ("each30", (30, 30, 30))):
            got = np.asarray(hands[f"mixamo_{key}"][side])
            np.testing.assert_allclose(got[0], rest[0], atol=1e-5)  # the knuckle stays
            np.testing.assert_allclose(_lengths(got), lengths, atol=1e-5)  # bones keep their lengths
            for k in range(1, 4):
                want = _curled_tip(rest[0], lengths[:k], angles[:k], side)
                np.testing.assert_allclose(got[k], want, atol=1e-5, err_msg=f"{side} {key} joint {k}")
        assert np.linalg.norm(np.asarray(hands["mixamo_proximal90"][side][3]) - rest[3]) > 0.05  # it moved (m)
    assert hands["mixamo_flat_frames"] == 1 and hands["mixamo_map"]["LeftIndexDistal"] == "mixamorig:LeftHandIndex3"
    assert len(hands["mixamo_map"]) == 54 and hands["mixamo_status"] == "3 frames, 53 of 54 bones (mixamo)"  # + LeftEye


@pytest.mark.slow
def test_real_blender_eye_turns_as_sent(hands):
    """LeftEye 20 degrees to the subject's left: the eye bone turns from forward (-Y) towards +X."""
    h0, t0 = (np.asarray(p) for p in hands["mixamo_eye_rest"])
    h1, t1 = (np.asarray(p) for p in hands["mixamo_eye"])
    np.testing.assert_allclose((t0 - h0) / np.linalg.norm(t0 - h0), [0, -1, 0], atol=1e-6)
    a = math.radians(20)
    np.testing.assert_allclose((t1 - h1) / np.linalg.norm(t1 - h1), [math.sin(a), -math.cos(a), 0], atol=1e-5)


@pytest.mark.slow
def test_real_blender_rig_without_fingers_ignores_them(hands):
    assert hands["bare_frames"] == 1 and hands["bare_driven"] == 24  # 22 body bones and 2 eyes
    assert "23 of 24 bones (mixamo)" in hands["bare_status"]  # body + LeftEye


@pytest.mark.slow
def test_real_blender_rigify_metarig_fingers(hands):
    """Blender's human metarig (bent rest fingers, arms sloping down) is auto-mapped whole (body,
    30 fingers, eyes); a flat hand straightens the index along the T-posed arm (+X), 90 degrees at
    its first joint points it straight down from the knuckle."""
    assert hands["meta_scheme"] == "rigify" and len(hands["meta_map"]) == 54
    assert hands["meta_map"]["LeftIndexProximal"] == "f_index.01.L" and hands["meta_map"]["LeftEye"] == "eye.L"
    rest = np.asarray(hands["meta_rest"])
    lengths = _lengths(rest)
    for key, angles in (("flat", (0, 0, 0)), ("proximal90", (90, 0, 0))):
        got = np.asarray(hands[f"meta_{key}"])
        np.testing.assert_allclose(_lengths(got), lengths, atol=1e-5)
        for k in range(1, 4):
            want = _curled_tip(got[0], lengths[:k], angles[:k], "Left")
            np.testing.assert_allclose(got[k], want, atol=1e-5, err_msg=f"{key} joint {k}")
    # At rest the metarig's index is not straight along +X: the flat hand moved it.
    assert np.linalg.norm(np.asarray(hands["meta_flat"])[3] - rest[3]) > 0.005


@pytest.mark.slow
def test_real_blender_robot_expressive_fingers(hands):
    """RobotExpressive's two-segment index finger (on an unmapped palm bone): flat, its first
    segment points along the T-posed arm (+X); curled 90 degrees, straight down."""
    assert hands["robot_fingers"]["LeftIndexProximal"] == "IndexL" and len(hands["robot_fingers"]) == 16
    for key, want in (("flat", [1, 0, 0]), ("proximal90", [0, 0, -1])):
        p = np.asarray(hands[f"robot_{key}"])
        d = p[1] - p[0]
        np.testing.assert_allclose(d / np.linalg.norm(d), want, atol=1e-5, err_msg=key)


@pytest.mark.slow
def test_real_blender_shape_keys_follow_val_and_apply(hands):
    """A mesh bound by an Armature modifier: Val + Apply set the matching keys (exact names, then
    aliases: Blink_L -> Fcl_EYE_Close_L, A -> vrc.v_aa clamped to 1, Joy -> mouthSmile, angry ->
    Angry); blinkRight lands on Blink_R where the exact Blink_R wins; unknown names change
    nothing; Val without Apply changes nothing until the Apply."""
    applied = hands["keys_applied"]
    assert applied == pytest.approx(
        {
            "Basis": 0.0,
            "Fcl_EYE_Close_L": 0.8,
            "vrc.v_aa": 1.0,
            "mouthSmile": 0.3,
            "Blink_R": 0.6,
            "blink_right": 0.0,
            "Angry": 0.45,
        }
    )
    assert hands["keys_val_only"] == pytest.approx(applied)
    after = dict(applied, Fcl_EYE_Close_L=0.1, Angry=0.9)
    assert hands["keys_after_apply"] == pytest.approx(after)
    assert hands["keys_status"] == "5 shape keys set from 8 expressions"  # 7 names, then Angry


@pytest.mark.slow
def test_real_blender_robot_expressive_morph_targets(hands):
    """RobotExpressive's 9 morph targets (Angry, Surprised, Sad on each of its three head meshes,
    which hang from the armature through an empty): Angry from "Angry", Surprised from VRM 1's
    "surprised" (clamped to 1), Sad from VRM 1's "sad"; Joy and Blink_L match none of them."""
    keys = hands["robot_shape_keys"]
    assert sorted(keys) == ["Head_2", "Head_3", "Head_4"]
    assert all(v == ["Basis", "Angry", "Surprised", "Sad"] for v in keys.values())
    for mesh, values in hands["robot_applied"].items():
        assert values == pytest.approx({"Basis": 0.0, "Angry": 0.7, "Surprised": 1.0, "Sad": 0.4}), mesh
    assert hands["robot_val_only"] == pytest.approx({m: 0.7 for m in keys})


@pytest.mark.slow
def test_real_blender_arposes_vmc_sender_drives_fingers_eyes_and_shape_keys(hands):
    """arpose's VmcSink (a Person with fingers and a face): the Mixamo rig's left index curls 90
    degrees at its first joint and the right one 30 degrees at each, as forward kinematics says;
    the left eye turns 20 degrees; VRM 0 expressions land on the face mesh's keys (Blink_L ->
    Fcl_EYE_Close_L, A -> vrc.v_aa, Joy -> mouthSmile, Angry); VRM 1 ones on RobotExpressive's
    morph targets (angry -> Angry, surprised -> Surprised)."""
    for side, angles in (("Left", (90, 0, 0)), ("Right", (30, 30, 30))):
        rest = np.asarray(hands["mixamo_rest"][side])
        got = np.asarray(hands["sink_mixamo_index"][side])
        lengths = _lengths(rest)
        for k in range(1, 4):
            want = _curled_tip(rest[0], lengths[:k], angles[:k], side)
            np.testing.assert_allclose(got[k], want, atol=1e-5, err_msg=f"{side} joint {k}")
    h, t = (np.asarray(p) for p in hands["sink_mixamo_eye"])
    a = math.radians(20)
    np.testing.assert_allclose((t - h) / np.linalg.norm(t - h), [math.sin(a), -math.cos(a), 0], atol=1e-5)
    assert hands["sink_mixamo_frames"] == 2 and "54 of 54 bones (mixamo)" in hands["sink_mixamo_status"]
    assert set(hands["sink_mixamo_blend"]) == {
        "Blink_L",
        "Blink_R",
        "A",
        "I",
        "U",
        "E",
        "O",
        "Joy",
        "Angry",
        "Surprised",
    }
    assert hands["sink_mixamo_keys"]["Face"] == pytest.approx(
        {
            "Basis": 0.0,
            "Fcl_EYE_Close_L": 0.8,
            "vrc.v_aa": 0.5,
            "mouthSmile": 0.3,
            "Blink_R": 0.0,
            "blink_right": 0.0,
            "Angry": 0.45,
        }
    )
    # Recorded: the face's keys into their own new take, per frame, played back by Blender.
    assert hands["body_take"] == "arpose take" and hands["face_take"] == "arpose take Face" and hands["face_kept"]
    keyed = ["Angry", "Blink_R", "Fcl_EYE_Close_L", "mouthSmile", "vrc.v_aa"]  # the keys the VRM 0 names reach
    assert hands["face_keyed"] == [f'key_blocks["{k}"].value' for k in keyed]
    assert hands["face_frames"] == [1.0, 2.0]
    assert hands["face_played"] == pytest.approx(hands["sink_mixamo_keys"]["Face"])
    assert "shape keys into 'arpose take Face'" in hands["sink_mixamo_status"]
    assert set(hands["sink_robot_blend"]) == {
        "blinkLeft",
        "blinkRight",
        "aa",
        "ih",
        "ou",
        "ee",
        "oh",
        "happy",
        "angry",
        "surprised",
    }
    for mesh, values in hands["sink_robot_keys"].items():
        assert values == pytest.approx({"Basis": 0.0, "Angry": 0.45, "Surprised": 0.65, "Sad": 0.0}), mesh


def _media_run(media, video, *flags):
    """A real ``arpose run VIDEO FLAGS --vmc`` into the Mixamo-named rig and its face mesh."""
    argv = ["arpose", "run", str(media / "videos" / video), *flags, "--no-progress", "--vmc", "127.0.0.1:PORT"]
    out = _run_in_blender(_IN_BLENDER_MEDIA, *argv)
    assert out["returncode"] == 0, out["stderr"]
    assert out["bad_packets"] == 0
    return out


def _by_frame(samples, fps, what):
    """``{video frame: value}`` from the samples (the sender's time is the frame's time)."""
    return {int(round(smp["t"] * fps)): what(smp) for smp in samples if smp["t"] is not None}


@pytest.mark.slow
def test_real_blink_video_closes_the_rigs_eyes_through_its_shape_keys(media):
    """``arpose run face_blink_headtilt_tfjs.mp4 --face --vmc``: the face mesh's VRoid keys
    (reached through the alias table: Blink_L -> Fcl_EYE_Close_L ...) close both eyes at each of
    the clip's clean blinks (frames 30, 56, 91, 119, 162 in SOURCES.md) and stay low between them;
    the eye bones are driven, no finger bone is (no --hands)."""
    out = _media_run(media, "face_blink_headtilt_tfjs.mp4", "--face")
    shut = _by_frame(
        out["samples"], 30, lambda smp: min(smp["keys"]["Fcl_EYE_Close_L"], smp["keys"]["Fcl_EYE_Close_R"])
    )
    opened = _by_frame(
        out["samples"], 30, lambda smp: max(smp["keys"]["Fcl_EYE_Close_L"], smp["keys"]["Fcl_EYE_Close_R"])
    )
    assert len(shut) > 300  # nearly every one of the 325 frames was seen applied
    for blink in (30, 56, 91, 119, 162):
        peak = max(v for f, v in shut.items() if blink - 2 <= f <= blink + 6)
        assert peak > 0.8, (blink, peak)  # both eyes shut (measured 1.0, 1.0, 1.0, 1.0, 0.87)
    for lo, hi in ((12, 26), (42, 54), (70, 88), (102, 116), (140, 158)):
        between = sorted(v for f, v in opened.items() if lo <= f <= hi)
        assert between and between[len(between) // 2] < 0.3, (lo, hi, between)  # open (median of the larger)
    assert all(smp["sent"] == ["LeftEye", "RightEye"] for smp in out["samples"])
    assert out["status"].startswith("325 frames, 24 of 54 bones (mixamo)")


@pytest.mark.slow
def test_real_fingerspelling_video_curls_and_straightens_the_rigs_index(media):
    """``arpose run hands_asl_fingerspelling_tfjs.mp4 --hands --vmc``: the subject's right hand
    drives the rig's right fingers: its index straight while the clip's index is up (frames
    138-158 in SOURCES.md; total curl measured: median 18 degrees, at most 19) and curled in the
    fists (frames 180-324; median 152 degrees, 89 at the least, in a change of handshape); the
    unseen left hand stays as it was (at rest)."""
    out = _media_run(media, "hands_asl_fingerspelling_tfjs.mp4", "--hands")
    right = _by_frame(out["samples"], 25, lambda smp: smp["curl"]["Right"])
    left = _by_frame(out["samples"], 25, lambda smp: smp["curl"]["Left"])
    up = sorted(v for f, v in right.items() if 140 <= f <= 156)
    fist = sorted(v for f, v in right.items() if 182 <= f <= 324)
    assert len(up) > 10 and len(fist) > 100
    assert up[len(up) // 2] < 45 and fist[len(fist) // 2] > 120, (up, fist)
    assert max(left.values()) < 0.1  # degrees; never sent: the rest pose, straight (float32 rounding)
    sent = {b for smp in out["samples"] for b in smp["sent"]}
    assert sent == {b for b in FINGER_BONE_NAMES if b.startswith("Right")}
