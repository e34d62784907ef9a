"""arpose live receiver for Blender: drives any humanoid armature from the VMC protocol or the
arpose raw OSC stream, live, over UDP. One file, no dependencies (it carries its own OSC parser).

Install: Edit > Preferences > Add-ons > Install... > pick this file > enable "arpose live
receiver". Then in the 3D viewport's sidebar (N) > arpose tab: pick the armature (a Mixamo,
VRoid/VRM, Rigify, Character Creator, Unreal or glTF rig as imported, or "Create arpose
armature"), set the port (39539 for ``arpose run ... --vmc 127.0.0.1``, 9000 for ``--osc
127.0.0.1``), press Start. Stop ends listening (the pose stays). The "Bone map" sub-panel shows
which bone of the rig plays each humanoid bone (filled by :func:`auto_map` from the bone names;
any field can be changed with its bone search, and maps saved to / loaded from JSON).

Scripts and headless Blender (``bpy`` as a Python module, ``blender -b``), where no timer ever
fires, call :func:`start` once and then :func:`pump` in a loop; :func:`stop` ends listening::

    import arpose_vmc_receiver as rx
    rx.register()
    scene = bpy.context.scene
    scene.arpose_receiver.armature = bpy.data.objects["Armature"]
    rx.start(scene)                      # ReceiverError if the port is taken
    while running:
        n = rx.pump(scene)               # frames received since the last call, applied in order
    rx.stop(scene)

Fingers and eyes: the 30 finger bones (``LeftThumbProximal`` ... ``RightLittleDistal``) and
``LeftEye`` / ``RightEye`` arrive in ``/VMC/Ext/Bone/Pos`` like the body's and are retargeted the
same way (each finger bone swung from the rig's rest direction onto the T-pose hand's: palm
down, fingers straight along the arm); the bone map has a field for each. Expressions
(``/VMC/Ext/Blend/Val`` then ``/VMC/Ext/Blend/Apply``) set the shape keys of the meshes bound to
the armature: a key named exactly as sent, else a key of :data:`EXPRESSIONS` (VRM 0 / VRM 1,
VRoid, VRChat, ARKit names, case-insensitive).

Retargeting (:func:`calibrate`, :func:`solve_pose`): the stream's rotations are relative to a
T-pose with identity rotations (arpose's default VMC stream, not ``--vmc-avatar``). Each mapped
bone's rest frame is taken in world space (the armature object's full ``matrix_world``: any
scale, rotation or parent); upper and lower arms and legs are first swung from the rig's rest
direction onto the T-pose direction (so an A-pose rig stands in a T when the performer does);
the received rotation becomes a world-space change about the rig's facing and is brought back
into the pose bone's own space, so rest rotations and bone rolls do not matter. The Hips and
root motion scale by the rig's leg length over arpose's standard leg (0.85 m). "Feet" chooses
the Hips height: "On the floor" (default) keeps the lower foot on the rig's floor (its feet's
rest height), whatever hip height is sent; "As sent" puts the rig's feet as far above its floor
as the sender's standard body's feet are above the sender's floor (jumps are followed). Feet
keep their rest orientation as the T-pose's (flat), and a foot that does not hang below its
lower leg (an IK rig's) is carried to where the lower leg puts it.

Recording ("Record keyframes") keys every received frame into a new action (the armature's
current one, e.g. an imported animation, is kept in the file with a fake user), timed by the
sender's clock from the scene's start frame: each driven bone's rotation in its own rotation
mode, and the location of the Hips and of carried feet.

Security: the receiver has no authentication, so it listens on 127.0.0.1 (this computer only)
unless another address is typed in "Listen on" on purpose; the panel then shows a warning.
It never shares its port (no ``SO_REUSEADDR``): a port another program holds is refused with
a message. Datagrams are bounded (:data:`MAX_PACKET_BYTES`, bundles nested at most
:data:`MAX_BUNDLE_DEPTH` deep); a datagram that is not valid OSC is counted in
``UdpReceiver.bad_packets`` and skipped, and no datagram can stop the receiver.

Frames: Blender is right-handed, Z up, a character faces -Y (its left is +X). VMC values are in
Unity's frame (left-handed, Y up, +Z forward, +X the avatar's right); the raw stream's bones are
in arpose's rig frame (right-handed, Y up, +Z forward, +X the subject's left). Quaternions in
this file are tuples ``(x, y, z, w)``; mathutils' ``(w, x, y, z)`` only at the bpy boundary.
Vectors are 3-tuples in metres (of the sender's standard body, or of the Blender scene where
said). *Armature space* is the armature object's own space (``bone.matrix_local``);
*world* is Blender's (``matrix_world @ armature space``).

Everything above the ``bpy`` section is pure Python and imports without Blender (tests run it).
"""

import collections
import errno
import functools
import json
import math
import re
import socket
import struct

bl_info = {
    "name": "arpose live receiver (VMC / OSC)",
    "author": "arpose",
    "version": (0, 3, 0),
    "blender": (2, 93, 0),
    "location": "View3D > Sidebar > arpose",
    "description": "Drive any humanoid armature, its fingers, eyes and face shape keys live from VMC or arpose's raw OSC (UDP)",
    "category": "Animation",
}

try:  # Blender only; the pure part below works without it.
    import bpy
    from mathutils import Quaternion, Vector
except ImportError:  # pragma: no cover - outside Blender
    bpy = None

# --------------------------------------------------------------------------------------------
# The arpose skeleton (copy of arpose.skeleton.BONES; a test keeps them equal).
# name, parent, rest offset from the parent joint (rig frame, metres), end-site offset (leaves).
# --------------------------------------------------------------------------------------------
SKELETON = (
    ("Hips", None, (0.0, 0.93, 0.0), None),
    ("Spine", "Hips", (0.0, 0.1, 0.0), None),
    ("Chest", "Spine", (0.0, 0.125, 0.0), None),
    ("UpperChest", "Chest", (0.0, 0.125, 0.0), None),
    ("Neck", "UpperChest", (0.0, 0.15, 0.0), None),
    ("Head", "Neck", (0.0, 0.17, 0.0), (0.0, 0.13, 0.0)),
    ("LeftShoulder", "UpperChest", (0.0285, 0.15, 0.0), None),
    ("LeftUpperArm", "LeftShoulder", (0.1615, 0.0, 0.0), None),
    ("LeftLowerArm", "LeftUpperArm", (0.28, 0.0, 0.0), None),
    ("LeftHand", "LeftLowerArm", (0.25, 0.0, 0.0), (0.08, 0.0, 0.0)),
    ("RightShoulder", "UpperChest", (-0.0285, 0.15, 0.0), None),
    ("RightUpperArm", "RightShoulder", (-0.1615, 0.0, 0.0), None),
    ("RightLowerArm", "RightUpperArm", (-0.28, 0.0, 0.0), None),
    ("RightHand", "RightLowerArm", (-0.25, 0.0, 0.0), (-0.08, 0.0, 0.0)),
    ("LeftUpperLeg", "Hips", (0.09, 0.0, 0.0), None),
    ("LeftLowerLeg", "LeftUpperLeg", (0.0, -0.43, 0.0), None),
    ("LeftFoot", "LeftLowerLeg", (0.0, -0.42, 0.0), None),
    ("LeftToes", "LeftFoot", (0.0, -0.06, 0.105), (0.0, 0.0, 0.055)),
    ("RightUpperLeg", "Hips", (-0.09, 0.0, 0.0), None),
    ("RightLowerLeg", "RightUpperLeg", (0.0, -0.43, 0.0), None),
    ("RightFoot", "RightLowerLeg", (0.0, -0.42, 0.0), None),
    ("RightToes", "RightFoot", (0.0, -0.06, 0.105), (0.0, 0.0, 0.055)),
)
#: The 22 body bones.
BODY_BONES = tuple(s[0] for s in SKELETON)

# Finger and eye bones (a copy of arpose.skeleton.FINGER_BONES / EYE_BONES; a test keeps them
# equal). The T-pose hand: palm down, fingers straight along the arm (+X for the subject's left
# hand, -X for the right), the four fingers side by side (index forward), the thumb forward and
# out at 45 degrees in the palm's plane; identity local rotations at rest, as for the body. The
# thumb's Proximal / Intermediate / Distal are its CMC / MCP / IP joints (Unity HumanBodyBones).
PHALANGES = ("Proximal", "Intermediate", "Distal")
FINGER_NAMES = ("Thumb", "Index", "Middle", "Ring", "Little")
_R2 = 0.5**0.5
#: Per finger (left hand; the right mirrors X): base joint offset from the Hand joint (rig
#: frame, metres), unit rest direction, lengths of the three segments.
_FINGER_REST = {
    "Thumb": ((0.025, -0.01, 0.02), (_R2, 0.0, _R2), (0.045, 0.032, 0.028)),
    "Index": ((0.085, 0.0, 0.025), (1.0, 0.0, 0.0), (0.040, 0.025, 0.022)),
    "Middle": ((0.088, 0.0, 0.0), (1.0, 0.0, 0.0), (0.045, 0.028, 0.024)),
    "Ring": ((0.083, 0.0, -0.017), (1.0, 0.0, 0.0), (0.042, 0.026, 0.023)),
    "Little": ((0.075, 0.0, -0.033), (1.0, 0.0, 0.0), (0.032, 0.020, 0.020)),
}


def _finger_skeleton():
    out = []
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        for finger in FINGER_NAMES:
            base, d, lengths = _FINGER_REST[finger]
            d = (d[0] * sx, d[1], d[2])
            parent, offset = side + "Hand", (base[0] * sx, base[1], base[2])
            for k, phalanx in enumerate(PHALANGES):
                seg = tuple(c * lengths[k] for c in d)
                out.append((side + finger + phalanx, parent, offset, seg if k == 2 else None))
                parent, offset = side + finger + phalanx, seg
    return tuple(out)


#: The 30 finger bones as :data:`SKELETON` rows: left hand then right, each Thumb, Index,
#: Middle, Ring, Little, each Proximal, Intermediate, Distal.
FINGER_SKELETON = _finger_skeleton()
#: The eye bones (children of Head, eyeball centres, looking forward (+Z rig) at rest).
EYE_SKELETON = (
    ("LeftEye", "Head", (0.032, 0.035, 0.07), (0.0, 0.0, 0.015)),
    ("RightEye", "Head", (-0.032, 0.035, 0.07), (0.0, 0.0, 0.015)),
)
FINGER_BONES = tuple(s[0] for s in FINGER_SKELETON)
EYE_BONES = tuple(s[0] for s in EYE_SKELETON)
#: Body, fingers and eyes, each bone after its parent.
FULL_SKELETON = SKELETON + FINGER_SKELETON + EYE_SKELETON
#: Every humanoid bone the add-on drives (body, fingers, eyes): the bone map's fields.
HUMANOID_BONES = tuple(s[0] for s in FULL_SKELETON)
PARENT = {name: parent for name, parent, _, _ in FULL_SKELETON}
STANDARD_HIP_HEIGHT = SKELETON[0][2][1]
#: Hip-to-ankle length of the standard body (upper plus lower leg), metres: the sender's scale.
STANDARD_LEG = math.sqrt(sum(c * c for c in SKELETON[15][2])) + math.sqrt(sum(c * c for c in SKELETON[16][2]))
IDENTITY = (0.0, 0.0, 0.0, 1.0)
#: Bones swung from the rig's rest direction onto the T-pose direction (as arpose.broadcast.avatar
#: does): a rig in an A-pose stands in a T, a rig with bent rest fingers opens its hand, when the
#: performer does.
ALIGNED_BONES = (
    tuple(f"{s}{b}" for s in ("Left", "Right") for b in ("UpperArm", "LowerArm", "UpperLeg", "LowerLeg")) + FINGER_BONES
)
#: Bones whose rest orientation is their T-pose one (flat on the floor), whatever the leg above does.
FLAT_BONES = ("LeftFoot", "RightFoot")
#: The bones whose joints touch the floor; grounding uses those a rig has.
SOLE_BONES = ("LeftFoot", "LeftToes", "RightFoot", "RightToes")
#: Frames kept between two :func:`pump` calls (older ones are dropped and counted).
MAX_QUEUED_FRAMES = 600

# --------------------------------------------------------------------------------------------
# Bone names of the rigs people bring. The schemes and names of arpose.skeleton.RIG_BONE_NAMES
# (a test keeps them equal), plus what Blender's importers make of them and arpose's own
# (Unity HumanBodyBones, which VRM humanoid names equal case-insensitively).
# --------------------------------------------------------------------------------------------
_LIMBS = ("Shoulder", "UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot", "Toes")


def _sided(table, left, right):
    """``{"Shoulder": "X_{s}_Y"}`` -> Left/Right entries with ``{s}`` replaced by ``left`` / ``right``."""
    out = {}
    for bone, pattern in table.items():
        if "{s}" in pattern:
            out["Left" + bone] = pattern.format(s=left)
            out["Right" + bone] = pattern.format(s=right)
        else:
            out[bone] = pattern
    return out


def _torso(hips, spine, chest, upper_chest, neck, head):
    return dict(Hips=hips, Spine=spine, Chest=chest, UpperChest=upper_chest, Neck=neck, Head=head)


#: ``{scheme: {humanoid bone: bone name}}``, Left = the subject's left.
RIG_BONE_NAMES = {
    "mixamo": _sided(
        dict(
            _torso("Hips", "Spine", "Spine1", "Spine2", "Neck", "Head"),
            **dict(
                zip(
                    _LIMBS,
                    ("{s}Shoulder", "{s}Arm", "{s}ForeArm", "{s}Hand", "{s}UpLeg", "{s}Leg", "{s}Foot", "{s}ToeBase"),
                )
            ),
        ),
        "Left",
        "Right",
    ),
    "vrm": _sided(
        dict(
            _torso(
                "J_Bip_C_Hips", "J_Bip_C_Spine", "J_Bip_C_Chest", "J_Bip_C_UpperChest", "J_Bip_C_Neck", "J_Bip_C_Head"
            ),
            **{b: "J_Bip_{s}_" + b for b in _LIMBS if b != "Toes"},
            Toes="J_Bip_{s}_ToeBase",
        ),
        "L",
        "R",
    ),
    "unreal": _sided(
        dict(
            _torso("pelvis", "spine_01", "spine_02", "spine_03", "neck_01", "head"),
            **dict(
                zip(
                    _LIMBS,
                    (
                        "clavicle_{s}",
                        "upperarm_{s}",
                        "lowerarm_{s}",
                        "hand_{s}",
                        "thigh_{s}",
                        "calf_{s}",
                        "foot_{s}",
                        "ball_{s}",
                    ),
                )
            ),
        ),
        "l",
        "r",
    ),
    "rigify": _sided(
        dict(
            _torso("DEF-spine", "DEF-spine.001", "DEF-spine.002", "DEF-spine.003", "DEF-spine.004", "DEF-spine.006"),
            **dict(
                zip(
                    _LIMBS,
                    tuple(
                        "DEF-" + b + ".{s}"
                        for b in ("shoulder", "upper_arm", "forearm", "hand", "thigh", "shin", "foot", "toe")
                    ),
                )
            ),
        ),
        "L",
        "R",
    ),
    "character_creator": _sided(
        dict(
            _torso(
                "CC_Base_Hip",
                "CC_Base_Waist",
                "CC_Base_Spine01",
                "CC_Base_Spine02",
                "CC_Base_NeckTwist01",
                "CC_Base_Head",
            ),
            **dict(
                zip(
                    _LIMBS,
                    tuple(
                        "CC_Base_{s}_" + b
                        for b in ("Clavicle", "Upperarm", "Forearm", "Hand", "Thigh", "Calf", "Foot", "ToeBase")
                    ),
                )
            ),
        ),
        "L",
        "R",
    ),
    "cesium_man": {
        "Hips": "Skeleton_torso_joint_1",
        "Spine": "Skeleton_torso_joint_2",
        "Chest": "torso_joint_3",
        "Neck": "Skeleton_neck_joint_1",
        "Head": "Skeleton_neck_joint_2",
        "LeftUpperArm": "Skeleton_arm_joint_L__4_",
        "LeftLowerArm": "Skeleton_arm_joint_L__3_",
        "LeftHand": "Skeleton_arm_joint_L__2_",
        "RightUpperArm": "Skeleton_arm_joint_R",
        "RightLowerArm": "Skeleton_arm_joint_R__2_",
        "RightHand": "Skeleton_arm_joint_R__3_",
        "LeftUpperLeg": "leg_joint_L_1",
        "LeftLowerLeg": "leg_joint_L_2",
        "LeftFoot": "leg_joint_L_3",
        "LeftToes": "leg_joint_L_5",
        "RightUpperLeg": "leg_joint_R_1",
        "RightLowerLeg": "leg_joint_R_2",
        "RightFoot": "leg_joint_R_3",
        "RightToes": "leg_joint_R_5",
    },
    "robot_expressive": _sided(
        dict(
            Hips="Body",
            Spine="Abdomen",
            Chest="Torso_1",
            Neck="Neck",
            Head="Head",
            **{b: b + "{s}" for b in ("Shoulder", "UpperArm", "LowerArm", "UpperLeg", "LowerLeg", "Foot")},
        ),
        "L",
        "R",
    ),
}


def _finger_names(pattern, fingers, left, right, numbers=("1", "2", "3")):
    """``{"LeftIndexProximal": name}`` for the 30 finger bones from ``pattern`` (``{s}`` the side
    (``left`` / ``right``), ``{f}`` the scheme's name of the finger (``fingers``: thumb, index,
    middle, ring, little), ``{n}`` the scheme's number of the phalanx (``numbers``))."""
    out = {}
    for side, s in (("Left", left), ("Right", right)):
        for finger, f in zip(FINGER_NAMES, fingers):
            for phalanx, n in zip(PHALANGES, numbers):
                if n is not None:
                    out[side + finger + phalanx] = pattern.format(s=s, f=f, n=n)
    return out


#: Finger and eye bones per scheme, ``{scheme: {humanoid bone: bone name}}`` (the add-on's own:
#: ``arpose.skeleton.RIG_BONE_NAMES`` has the body). Rigify's are its deform bones; the metarig's
#: (the same names without ``DEF-``) are in :data:`BONE_NAME_ALIASES`.
EXTRA_BONE_NAMES = {
    "mixamo": dict(
        _finger_names("{s}Hand{f}{n}", ("Thumb", "Index", "Middle", "Ring", "Pinky"), "Left", "Right"),
        LeftEye="LeftEye",
        RightEye="RightEye",
    ),
    "vrm": dict(
        _finger_names("J_Bip_{s}_{f}{n}", ("Thumb", "Index", "Middle", "Ring", "Little"), "L", "R"),
        LeftEye="J_Adj_L_FaceEye",
        RightEye="J_Adj_R_FaceEye",
    ),
    "rigify": dict(
        _finger_names("DEF-{f}.0{n}.{s}", ("thumb", "f_index", "f_middle", "f_ring", "f_pinky"), "L", "R"),
        LeftEye="eye.L",  # the metarig's; a generated rig's eyes are not deform bones
        RightEye="eye.R",
    ),
    "character_creator": dict(
        _finger_names("CC_Base_{s}_{f}{n}", ("Thumb", "Index", "Mid", "Ring", "Pinky"), "L", "R"),
        LeftEye="CC_Base_L_Eye",
        RightEye="CC_Base_R_Eye",
    ),
    "unreal": _finger_names("{f}_0{n}_{s}", ("thumb", "index", "middle", "ring", "pinky"), "l", "r"),
    # Two segments per finger, no little finger; each finger hangs from its own palm bone.
    "robot_expressive": {
        f"{side}{finger}{phalanx}": name.format(s=s)
        for side, s in (("Left", "L"), ("Right", "R"))
        for finger, names in (
            ("Thumb", ("Thumb{s}", "Thumb2{s}")),
            ("Index", ("Index{s}", "Index2{s}")),
            ("Middle", ("Middle1{s}", "Middle2{s}")),
            ("Ring", ("Ring1{s}", "Ring2{s}")),
        )
        for phalanx, name in zip(PHALANGES, names)
    },
}

#: More names per scheme: what Blender's importers call a bone (RobotExpressive's head joint is
#: the glTF node ``Head_1``; its ``Head`` is a group of meshes), Blender's Rigify metarig (the
#: deform bones' names without ``DEF-``; ``Add > Armature > Human (Meta-Rig)``).
BONE_NAME_ALIASES = {
    "robot_expressive": {"Head": ("Head_1",)},
    "rigify": {
        b: (n[len("DEF-") :],)
        for b, n in list(RIG_BONE_NAMES["rigify"].items()) + list(EXTRA_BONE_NAMES["rigify"].items())
        if n.startswith("DEF-")
    },
}
NAME_SCHEMES = {
    scheme: {
        b: (n,) + BONE_NAME_ALIASES.get(scheme, {}).get(b, ())
        for b, n in list(table.items()) + list(EXTRA_BONE_NAMES.get(scheme, {}).items())
    }
    for scheme, table in RIG_BONE_NAMES.items()
}
#: Unity HumanBodyBones names (which VRM 0.x humanoid names equal case-insensitively).
NAME_SCHEMES["humanoid"] = {b: (b,) for b in HUMANOID_BONES}
#: VRM 1.0 humanoid names: Unity's but for the thumb, whose ``Metacarpal`` / ``Proximal`` /
#: ``Distal`` are Unity's thumb ``Proximal`` / ``Intermediate`` / ``Distal`` (one joint along).
VRM1_THUMB = {"ThumbProximal": "ThumbMetacarpal", "ThumbIntermediate": "ThumbProximal"}


def _vrm1_name(bone):
    """The VRM 1.0 humanoid name of a Unity humanoid bone name (``LeftThumbProximal`` ->
    ``LeftThumbMetacarpal``; the rest unchanged, compared case-insensitively)."""
    for unity, vrm1 in VRM1_THUMB.items():
        if bone.endswith(unity):
            return bone[: -len(unity)] + vrm1
    return bone


NAME_SCHEMES["vrm1_humanoid"] = {b: (_vrm1_name(b),) for b in HUMANOID_BONES}


def bone_key(name: str) -> str:
    """A bone name as the schemes compare it: lower case, without a Mixamo prefix
    (``mixamorig:``, ``mixamorig_``, ``mixamorig1:`` ...)."""
    return re.sub(r"^mixamorig\d*[:_]", "", str(name).strip(), flags=re.IGNORECASE).lower()


def auto_map(bone_names) -> tuple:
    """``(scheme, {humanoid bone: bone name})`` for an armature's ``bone_names``: the scheme of
    :data:`NAME_SCHEMES` that names the most of them (``(None, {})`` if none matches)."""
    keys = {}
    for name in bone_names:
        keys.setdefault(bone_key(name), name)
    best, found = None, {}
    for scheme, table in NAME_SCHEMES.items():
        got = {}
        for bone, names in table.items():
            hit = next((keys[bone_key(n)] for n in names if bone_key(n) in keys), None)
            if hit is not None:
                got[bone] = hit
        if len(got) > len(found):
            best, found = scheme, got
    return best, found


class MapError(ValueError):
    """A bone map file that cannot be used; the message names the file and the reason."""


#: The ``format`` of a saved bone map.
MAP_FORMAT = "arpose-bone-map"


def map_to_json(mapping: dict, armature: str = "") -> str:
    """A bone map ``{humanoid bone: bone name}`` as the JSON text :func:`map_from_json` reads."""
    bones = {b: mapping[b] for b in HUMANOID_BONES if mapping.get(b)}
    return json.dumps({"format": MAP_FORMAT, "version": 1, "armature": armature, "bones": bones}, indent=2) + "\n"


def map_from_json(text: str, where: str = "bone map") -> dict:
    """``{humanoid bone: bone name}`` from :func:`map_to_json`'s text (or a plain object of
    humanoid bone names to bone names). Raises :class:`MapError` (one line, starting with
    ``where``) for text that is not such a map."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MapError(f"{where}: not JSON ({str(exc).splitlines()[0]})") from None
    if isinstance(data, dict) and "bones" in data:
        if data.get("format", MAP_FORMAT) != MAP_FORMAT:
            raise MapError(f"{where}: format {data.get('format')!r} is not {MAP_FORMAT!r}")
        data = data["bones"]
    if not isinstance(data, dict):
        raise MapError(f"{where}: expected an object of humanoid bone names to bone names")
    unknown = sorted(str(k) for k in data if k not in PARENT)
    if unknown:
        raise MapError(f"{where}: unknown humanoid bones {', '.join(unknown[:5])} (use Hips, Spine, LeftUpperArm ...)")
    bad = sorted(k for k, v in data.items() if not isinstance(v, str))
    if bad:
        raise MapError(f"{where}: the bone names of {', '.join(bad[:5])} are not text")
    return {b: data[b] for b in HUMANOID_BONES if data.get(b)}


# --------------------------------------------------------------------------------------------
# Minimal OSC 1.0 parser (messages and nested bundles).
# --------------------------------------------------------------------------------------------


#: The largest datagram parsed: the largest UDP payload over IPv4.
MAX_PACKET_BYTES = 65507
#: How deep bundles may nest (senders use one level, sometimes two).
MAX_BUNDLE_DEPTH = 8


class OscError(ValueError):
    """A datagram that is not valid OSC (or exceeds the bounds above): the only error
    :func:`parse_packet` raises."""


class ReceiverError(Exception):
    """The receiver cannot listen (port in use, address not of this computer ...); the
    message says what to do."""


def _read_string(data: bytes, i: int) -> tuple[str, int]:
    end = data.find(b"\x00", i)
    if end < 0:
        raise OscError("unterminated OSC string")
    s = data[i:end].decode("utf-8", "replace")
    return s, (end + 4) & ~3


def parse_message(data: bytes) -> tuple[str, tuple]:
    """One OSC message -> ``(address, args)``. Types: i f s d h T F N b (blob as bytes)."""
    address, i = _read_string(data, 0)
    if not address.startswith("/"):
        raise OscError(f"not an OSC address: {address!r}")
    if i >= len(data):
        return address, ()
    tags, i = _read_string(data, i)
    if not tags.startswith(","):
        raise OscError("missing OSC type tags")
    args = []
    try:
        for t in tags[1:]:
            if t == "i":
                args.append(struct.unpack_from(">i", data, i)[0])
                i += 4
            elif t == "f":
                args.append(struct.unpack_from(">f", data, i)[0])
                i += 4
            elif t == "s":
                s, i = _read_string(data, i)
                args.append(s)
            elif t == "d":
                args.append(struct.unpack_from(">d", data, i)[0])
                i += 8
            elif t == "h":
                args.append(struct.unpack_from(">q", data, i)[0])
                i += 8
            elif t == "b":
                n = struct.unpack_from(">i", data, i)[0]
                if n < 0 or i + 4 + n > len(data):
                    raise OscError("truncated OSC blob")
                args.append(bytes(data[i + 4 : i + 4 + n]))
                i += 4 + ((n + 3) & ~3)
            elif t in "TF":
                args.append(t == "T")
            elif t == "N":
                args.append(None)
            else:
                raise OscError(f"unsupported OSC type tag {t!r}")
    except struct.error:
        raise OscError("truncated OSC message") from None
    return address, tuple(args)


def parse_packet(data: bytes) -> list:
    """A datagram (message or bundle, nested bundles flattened in order) -> ``[(address, args)]``.

    Raises :class:`OscError` (and nothing else) if it is not valid OSC, is larger than
    :data:`MAX_PACKET_BYTES` or nests bundles deeper than :data:`MAX_BUNDLE_DEPTH`.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise OscError(f"an OSC datagram is bytes, got {type(data).__name__}")
    if len(data) > MAX_PACKET_BYTES:
        raise OscError(f"datagram of {len(data)} bytes is larger than {MAX_PACKET_BYTES}")
    data = bytes(data)
    out = []
    _parse_element(data, 0, len(data), 0, out)
    return out


def _parse_element(data: bytes, start: int, end: int, depth: int, out: list) -> None:
    """Append the messages of the element ``data[start:end]`` to ``out`` (bundles by offset,
    not by copying, so a datagram costs time in proportion to its size)."""
    if not data.startswith(b"#bundle\x00", start, end):
        out.append(parse_message(data[start:end]))
        return
    if depth >= MAX_BUNDLE_DEPTH:
        raise OscError(f"OSC bundles nested deeper than {MAX_BUNDLE_DEPTH}")
    i = start + 16
    if i > end:
        raise OscError("truncated OSC bundle")
    while i + 4 <= end:
        n = struct.unpack_from(">i", data, i)[0]
        if n < 0 or i + 4 + n > end:
            raise OscError("truncated OSC bundle")
        _parse_element(data, i + 4, i + 4 + n, depth + 1, out)
        i += 4 + n


# --------------------------------------------------------------------------------------------
# Frames and quaternions (x, y, z, w).
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Frames, vectors and quaternions (x, y, z, w).
# --------------------------------------------------------------------------------------------


def unity_to_blender_vec(v):
    """Unity (left-handed, Y up, +Z forward, +X right) -> Blender (Z up, forward -Y, +X left of
    a character facing the viewer): ``(x, y, z) -> (-x, -z, y)``."""
    return (-v[0], -v[2], v[1])


def unity_to_blender_quat(q):
    """Unity rotation -> Blender: ``(x, y, z, w) -> (x, z, -y, w)`` (un-mirror X, then +90 deg about X)."""
    return (q[0], q[2], -q[1], q[3])


def rig_to_blender_vec(v):
    """arpose rig frame (right-handed, Y up, +Z forward, +X subject's left) -> Blender: a
    +90 deg turn about X, ``(x, y, z) -> (x, -z, y)``."""
    return (v[0], -v[2], v[1])


def rig_to_blender_quat(q):
    return (q[0], -q[2], q[1], q[3])


def vadd(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def vsub(a, b):
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def vscale(a, k):
    return (a[0] * k, a[1] * k, a[2] * k)


def vdot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def vcross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def vnorm(a):
    return math.sqrt(vdot(a, a))


def qmul(a, b):
    """Hamilton product ``a * b`` (``b`` applied first)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def qconj(q):
    return (-q[0], -q[1], -q[2], q[3])


def qnormalize(q):
    """``q`` scaled to unit length; the identity for a zero, non-finite or malformed value."""
    try:
        n = math.sqrt(sum(c * c for c in q))
    except (TypeError, ValueError, OverflowError):
        return IDENTITY
    if not (n > 1e-9) or n != n or math.isinf(n):
        return IDENTITY
    return tuple(c / n for c in q)


def qrotate(q, v):
    x, y, z, _ = qmul(qmul(q, (v[0], v[1], v[2], 0.0)), qconj(q))
    return (x, y, z)


def quat_from_columns(x, y, z):
    """Unit quaternion of the rotation matrix whose columns are the orthonormal right-handed
    axes ``x``, ``y``, ``z`` (3-tuples)."""
    m00, m10, m20 = x
    m01, m11, m21 = y
    m02, m12, m22 = z
    tr = m00 + m11 + m22
    if tr > 0.0:
        s = 2.0 * math.sqrt(tr + 1.0)
        q = ((m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, 0.25 * s)
    elif m00 > m11 and m00 > m22:
        s = 2.0 * math.sqrt(1.0 + m00 - m11 - m22)
        q = (0.25 * s, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s)
    elif m11 > m22:
        s = 2.0 * math.sqrt(1.0 + m11 - m00 - m22)
        q = ((m01 + m10) / s, 0.25 * s, (m12 + m21) / s, (m02 - m20) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m22 - m00 - m11)
        q = ((m02 + m20) / s, (m12 + m21) / s, 0.25 * s, (m10 - m01) / s)
    return qnormalize(q)


def swing(u, v):
    """The smallest rotation taking direction ``u`` onto direction ``v`` (3-tuples, any length)."""
    nu, nv = vnorm(u), vnorm(v)
    if not (nu > 1e-12 and nv > 1e-12):
        return IDENTITY
    u, v = vscale(u, 1.0 / nu), vscale(v, 1.0 / nv)
    c = vdot(u, v)
    if c < -1.0 + 1e-9:  # opposite: half a turn about any axis perpendicular to u
        axis = vcross(u, (1.0, 0.0, 0.0))
        if vnorm(axis) < 1e-6:
            axis = vcross(u, (0.0, 1.0, 0.0))
        axis = vscale(axis, 1.0 / vnorm(axis))
        return (axis[0], axis[1], axis[2], 0.0)
    a = vcross(u, v)
    return qnormalize((a[0], a[1], a[2], 1.0 + c))


def global_rotations(local, root_rotation=IDENTITY):
    """``{bone: local rotation}`` (parent-relative, T-pose = identity, any one frame's axes) ->
    ``{bone: global rotation}`` by walking :data:`FULL_SKELETON` (body, fingers, eyes); missing
    bones count as identity."""
    out = {}
    for name, parent, _, _ in FULL_SKELETON:
        q = qnormalize(local.get(name, IDENTITY))
        out[name] = qmul(out[parent] if parent else root_rotation, q)
    return out


def rest_joints_blender(skeleton=FULL_SKELETON):
    """``{bone: (head, tail)}`` of the arpose T-pose in Blender axes (metres; feet at z ~ 0) for
    the rows of ``skeleton`` (default body, fingers and eyes). Tails point along the end site
    where a bone has one (Head, Hands, Toes, fingertips, eyes), else at the first child's head."""
    heads, children = {}, {}
    for name, parent, off, _ in skeleton:
        o = rig_to_blender_vec(off)
        heads[name] = o if parent is None else tuple(a + b for a, b in zip(heads[parent], o))
        if parent:
            children.setdefault(parent, []).append(name)
    out = {}
    for name, _, _, end in skeleton:
        if end is not None:
            tail = tuple(a + b for a, b in zip(heads[name], rig_to_blender_vec(end)))
        else:
            tail = heads[children[name][0]]
        out[name] = (heads[name], tail)
    return out


_STANDARD_REST = {n: h for n, (h, _) in rest_joints_blender().items()}
#: Direction of each body bone to its first child's joint, and of each finger bone to the next
#: phalanx's joint (the distal one along its end site), in the T-pose, Blender axes.
TPOSE_DIRECTION = {}
#: The first child of each body bone in :data:`SKELETON`, and the next phalanx of each finger bone.
FIRST_CHILD = {}
for _name, _parent, _off, _ in SKELETON + FINGER_SKELETON:
    if _parent is not None and (_parent not in BODY_BONES or _name in BODY_BONES):
        TPOSE_DIRECTION.setdefault(_parent, rig_to_blender_vec(_off))
        FIRST_CHILD.setdefault(_parent, _name)
for _name, _, _, _end in FINGER_SKELETON:
    if _end is not None:
        TPOSE_DIRECTION[_name] = rig_to_blender_vec(_end)


def standard_clearance(global_q, hips, bones=SOLE_BONES) -> float:
    """How far the standard body's lowest foot joint of ``bones`` is above its rest height
    (metres, negative below), with the global rotations ``global_q`` (Blender axes, T-pose
    relative, from :func:`global_rotations`) and the Hips joint at ``hips`` (Blender axes,
    standard-body metres, the sender's floor at z = 0)."""
    pos = {}
    for name, parent, off, _ in SKELETON:
        if parent is None:
            pos[name] = tuple(hips)
        else:
            pos[name] = vadd(pos[parent], qrotate(global_q[parent], rig_to_blender_vec(off)))
    return min(pos[b][2] - _STANDARD_REST[b][2] for b in bones)


def _finite_or(v, fallback):
    """``v`` if all its components are finite numbers, else ``fallback`` (a position received
    as NaN or infinity keeps the previous one)."""
    return v if all(math.isfinite(c) for c in v) else fallback


#: One complete frame as received (see :class:`PoseState`); ``blend``: ``{expression name: value
#: in [0, 1]}`` applied (``/VMC/Ext/Blend/Apply``) up to this frame (None: not given).
ReceivedFrame = collections.namedtuple(
    "ReceivedFrame", "local root_rotation hips_target timestamp tracking blend", defaults=(None,)
)
#: Distinct expression names kept (further new names are ignored: a bound on what a sender can fill).
MAX_EXPRESSIONS = 1024


def clamp01(v: float) -> float:
    """``v`` limited to [0, 1]."""
    return 0.0 if v < 0.0 else 1.0 if v > 1.0 else v


class PoseState:
    """The latest pose received, in Blender axes, and the frames completed since the last
    :meth:`take_frames`.

    ``local``: ``{bone: local rotation (x, y, z, w)}``, Blender axes, T-pose = identity;
    ``root_rotation``; ``hips_target``: the Hips joint of the sender's standard body, Blender
    axes, metres, the sender's floor at z = 0 (VMC: root + Hips local position; raw: rest head
    plus the displacement since the first frame), or None. ``frames`` counts completed frames;
    each completed frame is also queued as a :class:`ReceivedFrame` (at most
    :data:`MAX_QUEUED_FRAMES`; ``dropped_frames`` counts older ones pushed out).

    Expressions (VMC ``/VMC/Ext/Blend/Val`` name, value): each value (clamped to [0, 1]; NaN and
    infinities ignored) waits in ``blend_pending`` until ``/VMC/Ext/Blend/Apply`` moves the
    waiting values into ``blend`` (``{name: value}``, every name applied so far keeps its latest
    value) and counts ``blend_applies``; values never applied do nothing.
    """

    def __init__(self, person: int = 0):
        self.person = person
        self.local = {}
        self.root_position = (0.0, 0.0, 0.0)
        self.root_rotation = IDENTITY
        self.hips_local_position = None
        self.hips_target = None
        self._raw_origin = None
        self.frames = 0
        self.messages = 0
        self.tracking = None
        self.timestamp = None  # sender's time of the latest frame, seconds
        self.queue = collections.deque()
        self.dropped_frames = 0
        self.blend_pending = {}
        self.blend = {}
        self.blend_applies = 0

    def snapshot(self) -> ReceivedFrame:
        """The pose received so far as a :class:`ReceivedFrame`."""
        return ReceivedFrame(
            dict(self.local), self.root_rotation, self.hips_target, self.timestamp, self.tracking, dict(self.blend)
        )

    def take_frames(self) -> list:
        """The frames completed since the last call, oldest first (and forget them)."""
        out = list(self.queue)
        self.queue.clear()
        return out

    def _complete(self):
        self.frames += 1
        if len(self.queue) >= MAX_QUEUED_FRAMES:
            self.queue.popleft()
            self.dropped_frames += 1
        self.queue.append(self.snapshot())

    def handle(self, address: str, args: tuple) -> None:
        """Apply one OSC message (VMC or arpose raw); unknown addresses are ignored."""
        self.messages += 1
        try:
            if address == "/VMC/Ext/Bone/Pos":
                name = args[0]
                if not isinstance(name, str):
                    return
                q = qnormalize(unity_to_blender_quat(args[4:8]))
                self.local[name] = q
                if name == "Hips":
                    self.hips_local_position = _finite_or(unity_to_blender_vec(args[1:4]), self.hips_local_position)
                    self._update_vmc_hips()
            elif address == "/VMC/Ext/Root/Pos":
                self.root_position = _finite_or(unity_to_blender_vec(args[1:4]), self.root_position)
                self.root_rotation = qnormalize(unity_to_blender_quat(args[4:8]))
                self._update_vmc_hips()
            elif address == "/VMC/Ext/Blend/Val":
                name, value = args[0], float(args[1])
                known = name in self.blend_pending or name in self.blend
                if (
                    isinstance(name, str)
                    and math.isfinite(value)
                    and (known or len(self.blend) + len(self.blend_pending) < MAX_EXPRESSIONS)
                ):
                    self.blend_pending[name] = clamp01(value)
            elif address == "/VMC/Ext/Blend/Apply":
                self.blend.update(self.blend_pending)
                self.blend_pending.clear()
                self.blend_applies += 1
            elif address == "/VMC/Ext/OK" and len(args) >= 4:
                self.tracking = bool(args[3])
            elif address == "/VMC/Ext/T":
                self.timestamp = float(args[0])
                self._complete()
            elif address == "/arpose/frame":
                self.timestamp = float(args[1])
            elif address == "/arpose/frame/end":
                self._complete()
            elif address == "/arpose/person/bone" and args[0] == self.person:
                if isinstance(args[1], str):
                    self.local[args[1]] = qnormalize(rig_to_blender_quat(args[2:6]))
            elif address == "/arpose/person/fingers" and args[0] == self.person and args[1] in ("left", "right"):
                first = 0 if args[1] == "left" else 15  # 15 bones of one hand, rig frame (NaN: not seen)
                for k in range(15):
                    q = args[2 + 4 * k : 6 + 4 * k]
                    if len(q) == 4 and all(math.isfinite(c) for c in q):
                        self.local[FINGER_BONES[first + k]] = qnormalize(rig_to_blender_quat(q))
            elif address == "/arpose/person/eyes" and args[0] == self.person:
                for k, name in enumerate(EYE_BONES):
                    q = args[1 + 4 * k : 5 + 4 * k]
                    if len(q) == 4 and all(math.isfinite(c) for c in q):
                        self.local[name] = qnormalize(rig_to_blender_quat(q))
            elif address == "/arpose/person/expressions" and args[0] == self.person:
                for name, value in zip(args[1::2], args[2::2]):  # name, weight pairs: Val ... then Apply
                    self.handle("/VMC/Ext/Blend/Val", (name, value))
                self.handle("/VMC/Ext/Blend/Apply", ())
            elif address == "/arpose/person/root" and args[0] == self.person:
                p = rig_to_blender_vec(args[1:4])
                if all(math.isfinite(c) for c in p):
                    if self._raw_origin is None:
                        self._raw_origin = p
                    self.hips_target = tuple(h + a - o for h, a, o in zip(_STANDARD_REST["Hips"], p, self._raw_origin))
        except (IndexError, TypeError, ValueError, OverflowError):
            pass  # a malformed message from some other sender: ignore it

    def _update_vmc_hips(self):
        if self.hips_local_position is not None:
            off = qrotate(self.root_rotation, self.hips_local_position)
            self.hips_target = tuple(a + b for a, b in zip(self.root_position, off))


DEFAULT_HOST = "127.0.0.1"
#: Receive buffer asked of the kernel (it may grant less).
RECEIVE_BUFFER_BYTES = 1 << 21


def is_loopback(host: str) -> bool:
    """True if ``host`` only accepts datagrams from this computer (127.x.x.x, localhost, ::1)."""
    h = host.strip().lower()
    return h == "localhost" or h == "::1" or h.startswith("127.")


def listen_warning(host: str):
    """The panel's warning for a listening address other than this computer's loopback, or
    ``None`` for a loopback address."""
    if is_loopback(host):
        return None
    where = "every network interface" if host.strip() in ("", "0.0.0.0") else host.strip()
    return f"listening on {where}: anyone on the network can move the armature"


class UdpReceiver:
    """Non-blocking UDP socket on ``(host, port)`` (loopback by default, port never shared);
    :meth:`poll` drains it into a PoseState.

    ``bad_packets`` counts datagrams that were skipped (not valid OSC, over the bounds, or
    failing in any other way); ``last_error`` says why the latest one was.
    Raises :class:`ReceiverError` if it cannot listen.
    """

    def __init__(self, port: int, host: str = DEFAULT_HOST, person: int = 0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: nobody else may bind it either
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise ReceiverError(_bind_message(exc, host, port)) from None
        self.sock.setblocking(False)
        try:  # room for a few seconds of frames between two polls (Blender busy, a slow script)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        except OSError:
            pass
        self.state = PoseState(person)
        self.bad_packets = 0
        self.last_error = None

    def poll(self, max_packets: int = 1000) -> int:
        """Read every waiting datagram (at most ``max_packets``); returns how many were read.
        Never raises for what a datagram holds."""
        n = 0
        while n < max_packets:
            try:
                data = self.sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            n += 1
            try:
                for address, args in parse_packet(data):
                    self.state.handle(address, args)
            except Exception as exc:  # OscError, or anything a crafted datagram provokes
                self.bad_packets += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
        return n

    def close(self):
        self.sock.close()


def _bind_message(exc: OSError, host: str, port: int) -> str:
    if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)) or getattr(exc, "winerror", None) == 10048:
        return f"port {port} is in use by another program (close it, or choose another port)"
    if exc.errno in (errno.EADDRNOTAVAIL, getattr(errno, "WSAEADDRNOTAVAIL", -1)):
        return f"{host} is not an address of this computer (use {DEFAULT_HOST} for this computer only)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"not allowed to listen on port {port} (choose a port above 1023)"
    if isinstance(exc, socket.gaierror):
        return f"unknown address {host!r} (use {DEFAULT_HOST} for this computer only)"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


# --------------------------------------------------------------------------------------------
# Retargeting onto any armature: its rest pose, in its object's world transform.
# --------------------------------------------------------------------------------------------


class ArmatureError(ValueError):
    """An armature the receiver cannot drive, or none chosen; the message says what to do."""


def affine_apply(m, p):
    """``m @ (p, 1)`` for a 3x4 (or 4x4) row-major affine ``m`` and a 3-tuple ``p``."""
    return tuple(r[0] * p[0] + r[1] * p[1] + r[2] * p[2] + r[3] for r in m[:3])


def affine_inverse(m):
    """The inverse of a 3x4 (or 4x4) row-major affine, as 3x4 rows; :class:`ArmatureError` if singular."""
    a, b, c = (tuple(r[:3]) for r in m[:3])
    det = vdot(a, vcross(b, c))
    if not (abs(det) > 1e-300) or not math.isfinite(det):
        raise ArmatureError("the armature object's transform is singular (a scale of 0); fix its scale")
    # Rows of the inverse 3x3: the columns of the adjugate over det.
    c0, c1, c2 = vcross(b, c), vcross(c, a), vcross(a, b)
    inv = [tuple(col[i] / det for col in (c0, c1, c2)) for i in range(3)]
    t = tuple(r[3] for r in m[:3])
    return [inv[i] + (-vdot(inv[i], t),) for i in range(3)]


def affine_rotation(m):
    """``(rotation (x, y, z, w), scales (3,))`` of a 3x4 (or 4x4) affine whose 3x3 part is a
    rotation times a scale per axis (any object transform without shear). :class:`ArmatureError`
    for a mirrored (negative scale) one."""
    cols = [tuple(m[i][j] for i in range(3)) for j in range(3)]
    scales = tuple(vnorm(c) for c in cols)
    if min(scales) < 1e-300:
        raise ArmatureError("the armature object's transform is singular (a scale of 0); fix its scale")
    x, y, z = (vscale(c, 1.0 / s) for c, s in zip(cols, scales))
    if vdot(vcross(x, y), z) < 0:
        raise ArmatureError("the armature object is mirrored (a negative scale); apply its scale (Ctrl+A) first")
    # Orthonormalise against rounding (Gram-Schmidt: x kept, y made perpendicular, z from both).
    y = vsub(y, vscale(x, vdot(x, y)))
    y = vscale(y, 1.0 / vnorm(y))
    return quat_from_columns(x, y, vcross(x, y)), scales


class RigCalibration:
    """What solving needs about one armature, from its rest pose and object transform (pure).

    Built by :func:`calibrate`; attributes (armature space unless said; world = Blender's):

    ``order``: bone names, each after its parent and after the bone it is carried by;
    ``parent``: ``{bone: parent bone or None}``; ``rest``: ``{bone: (rest rotation (x, y, z, w),
    rest head (3,))}`` (``bone.matrix_local``); ``mapping``: ``{humanoid bone: bone}`` (bones the
    armature has); ``humanoid``: ``{bone: humanoid bone}``; ``humanoid_parent``: ``{humanoid bone:
    nearest mapped humanoid ancestor or None}``; ``carried``: humanoid bones whose bone does not
    hang below their humanoid parent's bone (e.g. IK feet on the armature's root): their heads
    are placed where the humanoid parent carries them; ``matrix``, ``matrix_inverse``: the
    object's ``matrix_world`` (3x4 rows) and its inverse; ``rotation``: its rotation;
    ``facing``: the rotation from the stream's Blender axes (character facing -Y, left +X, up +Z)
    to the rig's facing in world (a turn about world Z); ``left`` (a quaternion) and ``right``
    (``{humanoid bone: quaternion}``): ``A = left * G * right[bone]`` is the armature-space
    rotation of a bone whose T-pose-relative global rotation (stream's Blender axes) is ``G``; ``scale``: world units of the rig per metre of the
    sender's standard body (its leg length / :data:`STANDARD_LEG`); ``hips_rest``: the Hips
    joint at rest, world; ``soles``: ``{humanoid bone: rest world z}`` of the foot and toe
    joints the rig has; ``floor``: the lowest of those (world z, None without feet);
    ``problems``: one-line notes for the panel (bones mapped twice, missing bones ...).
    """


def _topological(names, deps):
    """``names`` with every name after the names ``deps[name]`` lists, or None for a cycle."""
    out, state = [], {}
    for root in names:
        if state.get(root):
            continue
        state[root] = 1
        stack = [(root, iter(deps.get(root, ())))]
        while stack:
            n, it = stack[-1]
            d = next(it, None)
            if d is None:
                stack.pop()
                state[n] = 2
                out.append(n)
            elif state.get(d) == 1:
                return None
            elif not state.get(d):
                state[d] = 1
                stack.append((d, iter(deps.get(d, ()))))
    return out


def calibrate(bones, mapping, matrix_world) -> RigCalibration:
    """A :class:`RigCalibration` for an armature.

    bones: ``[(name, parent name or None, rest rotation (x, y, z, w), rest head (3,)[, rest
        tail (3,)])]`` in armature space (``bone.matrix_local``, ``bone.head_local``,
        ``bone.tail_local``), any order.
    mapping: ``{humanoid bone: bone name}`` (entries naming no bone of ``bones`` are skipped and
        noted in ``problems``).
    matrix_world: the armature object's world matrix, 3x4 or 4x4 row-major (any translation,
        rotation, scale and parents; no mirroring).
    Raises :class:`ArmatureError` for a mirrored or singular object transform.
    """
    cal = RigCalibration()
    problems = []
    cal.rest, cal.parent, tails, children = {}, {}, {}, {}
    for b in bones:
        name, par, rq, head = b[0], b[1], qnormalize(b[2]), tuple(float(c) for c in b[3])
        cal.rest[name] = (rq, head)
        cal.parent[name] = par
        tails[name] = tuple(b[4]) if len(b) > 4 and b[4] is not None else None
    for name, par in list(cal.parent.items()):
        if par is not None and par not in cal.rest:
            cal.parent[name] = None
        elif par is not None:
            children.setdefault(par, []).append(name)
    cal.mapping, cal.humanoid = {}, {}
    for h in HUMANOID_BONES:
        b = mapping.get(h)
        if not b:
            continue
        if b not in cal.rest:
            problems.append(f"{h}: no bone {b!r}")
        elif b in cal.humanoid:
            problems.append(f"{h}: {b!r} already plays {cal.humanoid[b]}")
        else:
            cal.mapping[h], cal.humanoid[b] = b, h

    def humanoid_parent(h):
        p = PARENT[h]
        while p is not None and p not in cal.mapping:
            p = PARENT[p]
        return p

    cal.humanoid_parent = {h: humanoid_parent(h) for h in cal.mapping}

    def descends(bone, ancestor):
        p = cal.parent.get(bone)
        while p is not None:
            if p == ancestor:
                return True
            p = cal.parent.get(p)
        return False

    carried = {
        h for h, hp in cal.humanoid_parent.items() if hp is not None and not descends(cal.mapping[h], cal.mapping[hp])
    }
    deps = {n: [p] for n, p in cal.parent.items() if p is not None}
    cal.carried = set()
    for h in (h for h in HUMANOID_BONES if h in carried):  # a carried bone that would wait on itself is not
        b, by = cal.mapping[h], cal.mapping[cal.humanoid_parent[h]]
        trial = dict(deps)
        trial[b] = deps.get(b, []) + [by]
        if _topological(list(cal.rest), trial) is not None:
            deps = trial
            cal.carried.add(h)
    cal.order = _topological(list(cal.rest), deps)

    cal.matrix = [tuple(float(c) for c in r[:4]) for r in matrix_world[:3]]
    cal.matrix_inverse = affine_inverse(cal.matrix)
    cal.rotation, _ = affine_rotation(cal.matrix)

    def joint(h):
        return affine_apply(cal.matrix, cal.rest[cal.mapping[h]][1])

    def end(h):
        """World point a humanoid bone points at: its humanoid child's joint, else the mean of
        its bone's children's heads, else its tail."""
        c = FIRST_CHILD.get(h)
        if c in cal.mapping:
            return joint(c)
        own = cal.rest[cal.mapping[h]][1]
        heads = [cal.rest[k][1] for k in children.get(cal.mapping[h], ()) if vnorm(vsub(cal.rest[k][1], own)) > 1e-9]
        if heads:
            mean = tuple(sum(p[i] for p in heads) / len(heads) for i in range(3))
            return affine_apply(cal.matrix, mean)
        t = tails[cal.mapping[h]]
        return affine_apply(cal.matrix, t) if t is not None else None

    # Facing: the rig's left from its hips and shoulders, made horizontal; up is world +Z.
    left = (0.0, 0.0, 0.0)
    for pair in ("UpperLeg", "UpperArm", "Shoulder"):
        if "Left" + pair in cal.mapping and "Right" + pair in cal.mapping:
            left = vadd(left, vsub(joint("Left" + pair), joint("Right" + pair)))
    left = (left[0], left[1], 0.0)
    if vnorm(left) < 1e-9:  # no sides mapped: the object's own +X
        left = qrotate(cal.rotation, (1.0, 0.0, 0.0))
        left = (left[0], left[1], 0.0)
        if vnorm(left) < 1e-9:
            left = (1.0, 0.0, 0.0)
    left = vscale(left, 1.0 / vnorm(left))
    up = (0.0, 0.0, 1.0)
    cal.facing = quat_from_columns(left, vcross(up, left), up)

    # Swings onto the T-pose, parents first (inherited by the bones below).
    swings = {}
    for h in HUMANOID_BONES:
        hp = PARENT[h]
        while hp is not None and hp not in swings:
            hp = PARENT[hp]
        # Feet stand flat at rest as in the T-pose: they do not turn with a bent rest leg.
        inherited = swings[hp] if hp is not None and h not in FLAT_BONES else IDENTITY
        s = inherited
        if h in cal.mapping and h in ALIGNED_BONES:
            e = end(h)
            if e is not None:
                u = qrotate(inherited, vsub(e, joint(h)))
                if vnorm(u) > 1e-12:
                    s = qnormalize(qmul(swing(u, qrotate(cal.facing, TPOSE_DIRECTION[h])), inherited))
        if h in cal.mapping:
            swings[h] = s
    cal.left = qnormalize(qmul(qconj(cal.rotation), cal.facing))
    cal.right = {
        h: qnormalize(qmul(qmul(qconj(cal.facing), swings[h]), qmul(cal.rotation, cal.rest[b][0])))
        for h, b in cal.mapping.items()
    }

    # Scale: leg lengths (world); without legs, the hips' height over the lowest bone.
    legs = []
    for s in ("Left", "Right"):
        if s + "UpperLeg" in cal.mapping and s + "LowerLeg" in cal.mapping:
            ankle = end(s + "LowerLeg")
            if ankle is not None:
                knee = joint(s + "LowerLeg")
                legs.append(vnorm(vsub(knee, joint(s + "UpperLeg"))) + vnorm(vsub(ankle, knee)))
    cal.soles = {h: joint(h)[2] for h in SOLE_BONES if h in cal.mapping}
    cal.floor = min(cal.soles.values()) if cal.soles else None
    cal.hips_rest = joint("Hips") if "Hips" in cal.mapping else None
    if legs and sum(legs) > 1e-9:
        cal.scale = sum(legs) / len(legs) / STANDARD_LEG
    elif cal.hips_rest is not None:
        low = min(affine_apply(cal.matrix, h)[2] for _, h in cal.rest.values())
        cal.scale = (cal.hips_rest[2] - low) / STANDARD_HIP_HEIGHT if cal.hips_rest[2] - low > 1e-9 else 1.0
        problems.append("no legs mapped: motion scaled by the hip height")
    else:
        cal.scale = 1.0
    if "Hips" not in cal.mapping and cal.mapping:
        problems.append("no Hips mapped: the rig does not move")
    cal.problems = problems
    return cal


#: How the Hips height is chosen (:func:`solve_pose`'s ``feet``): ``"floor"`` keeps the lower
#: foot on the rig's floor; ``"stream"`` puts the feet as high above it as the sender's are.
FEET_MODES = ("floor", "stream")


def solve_pose(cal: RigCalibration, frame, current=None, move_root: bool = True, feet: str = "floor") -> tuple:
    """Pose-bone values that put an armature (``cal``) in the received ``frame`` (pure).

    frame: a :class:`ReceivedFrame` (Blender axes, T-pose-relative local rotations, Hips target
        of the sender's standard body). current: ``{bone: (rotation (x, y, z, w), location
        (3,))}`` the pose-bone basis of bones this does not drive (default: rest).
    move_root: translate the Hips: horizontally by the stream's displacement times
        ``cal.scale`` about the rig's rest, and vertically as ``feet`` says; without it the
        Hips keep their current location.
    feet: ``"floor"`` (the lowest foot or toe joint at its rest height: planted feet never
        float or sink, whatever hip height is sent; jumps are not followed) or ``"stream"``
        (the rig's feet as far above its floor, times ``cal.scale``, as the sender's standard
        body's are above the sender's floor: jumps followed, errors in the sent height too).
        A rig without mapped feet follows the sent hip height's change, scaled.
    Returns ``(basis, posed)``: ``basis`` ``{bone: (rotation (x, y, z, w), location (3,) or
    None)}`` for the bones driven (mapped and received; a location of None keeps the current
    one), ``posed`` ``{bone: (rotation, head)}`` of every bone in armature space, as Blender
    evaluates ``parent_pose @ parent_rest^-1 @ rest @ basis`` (pose-bone scale taken as 1).
    """
    current = current or {}
    g = global_rotations(frame.local, frame.root_rotation)
    targets = {h: qnormalize(qmul(qmul(cal.left, g[h]), cal.right[h])) for h in cal.mapping if h in frame.local}
    hips = None
    if move_root and "Hips" in targets and frame.hips_target is not None and cal.hips_rest is not None:
        k = cal.scale
        ht = frame.hips_target
        d = qrotate(cal.facing, (k * ht[0], k * ht[1], 0.0))
        hips = (
            cal.hips_rest[0] + d[0],
            cal.hips_rest[1] + d[1],
            cal.hips_rest[2] + k * (ht[2] - STANDARD_HIP_HEIGHT),
        )
    basis, posed = _forward(cal, targets, hips, current)
    if hips is not None and cal.soles:
        sole = [h for h in SOLE_BONES if h in cal.soles]
        rig = min(affine_apply(cal.matrix, posed[cal.mapping[h]][1])[2] - cal.soles[h] for h in sole)
        want = cal.scale * standard_clearance(g, frame.hips_target, sole) if feet == "stream" else 0.0
        hips = (hips[0], hips[1], hips[2] + want - rig)
        basis, posed = _forward(cal, targets, hips, current)
    return basis, posed


def _forward(cal, targets, hips_world, current):
    """Basis and armature-space pose of every bone (see :func:`solve_pose`)."""
    hips_arm = affine_apply(cal.matrix_inverse, hips_world) if hips_world is not None else None
    basis, posed = {}, {}
    for b in cal.order:
        rq, head = cal.rest[b]
        p = cal.parent[b]
        if p is None:
            frame_q, base_q, base_p = IDENTITY, rq, head
        else:
            pq, pp = posed[p]
            prq, phead = cal.rest[p]
            frame_q = qmul(pq, qconj(prq))  # the parent's change from its rest, armature space
            base_q, base_p = qmul(frame_q, rq), vadd(pp, qrotate(frame_q, vsub(head, phead)))
        h = cal.humanoid.get(b)
        if h in targets:
            q = qnormalize(qmul(qconj(base_q), targets[h]))
            want = None
            if h == "Hips":
                want = hips_arm
            elif h in cal.carried:
                hb = cal.mapping[cal.humanoid_parent[h]]
                hq, hp = posed[hb]
                hrq, hhead = cal.rest[hb]
                want = vadd(hp, qrotate(qmul(hq, qconj(hrq)), vsub(head, hhead)))
            if want is not None:
                loc = qrotate(qconj(base_q), vsub(want, base_p))
            elif h == "Hips":
                loc = None
            else:
                loc = (0.0, 0.0, 0.0)
            basis[b] = (q, loc)
            if loc is None:
                loc = current.get(b, (IDENTITY, (0.0, 0.0, 0.0)))[1]
        else:
            q, loc = current.get(b, (IDENTITY, (0.0, 0.0, 0.0)))
            q = qnormalize(q)
        posed[b] = (qmul(base_q, q), vadd(base_p, qrotate(base_q, loc)))
    return basis, posed


def solve_armature(state: PoseState, bones, move_root: bool = True) -> dict:
    """The latest pose of ``state`` on an armature whose bones are named as :func:`auto_map`
    finds them, with its object at the origin and the sent hip height followed (``feet="stream"``)
    (pure; kept for scripts of version 0.1).

    bones: as :func:`calibrate` takes them. Returns ``{name: (rotation (x, y, z, w), location
    (3,) or None)}`` for the bones driven.
    """
    _, mapping = auto_map([b[0] for b in bones])
    identity = ((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0))
    basis, _ = solve_pose(calibrate(bones, mapping, identity), state.snapshot(), None, move_root, feet="stream")
    return basis


def record_frame(start_time, timestamp, fps: float, frame_start: int) -> int:
    """Timeline frame for a received frame: ``frame_start`` at the first recorded timestamp,
    then the sender's time in scene frames (so recording follows real time, not poll rate)."""
    if start_time is None or timestamp is None:
        return frame_start
    return frame_start + int(round((timestamp - start_time) * fps))


# --------------------------------------------------------------------------------------------
# Expressions -> shape keys.
# --------------------------------------------------------------------------------------------

#: Expressions and the shape key names each drives where a mesh has no key of the exact sent
#: name. Each row: the names it goes by (compared case-insensitively, sent or on a mesh): VRM 0
#: (``Blink_L``, ``A``, ``Joy`` ...), VRM 1 (``blinkLeft``, ``aa``, ``happy`` ...), then the
#: common names of shape keys: VRoid's ``Fcl_*``, VRChat's ``vrc.*``, ARKit's, snake case. A
#: mesh's key is the first of the row's names it has.
EXPRESSIONS = (
    ("Blink_L", "blinkLeft", "blink_left", "eyeBlinkLeft", "Fcl_EYE_Close_L", "vrc.blink_left", "EyeBlink_L"),
    ("Blink_R", "blinkRight", "blink_right", "eyeBlinkRight", "Fcl_EYE_Close_R", "vrc.blink_right", "EyeBlink_R"),
    ("Blink", "blink", "Fcl_EYE_Close", "vrc.blink", "eyesClosed"),
    ("A", "aa", "vrc.v_aa", "Fcl_MTH_A", "mouthOpen", "jawOpen", "mouth_a"),
    ("I", "ih", "vrc.v_ih", "Fcl_MTH_I", "mouth_i"),
    ("U", "ou", "vrc.v_ou", "Fcl_MTH_U", "mouth_u"),
    ("E", "ee", "vrc.v_e", "Fcl_MTH_E", "mouth_e"),
    ("O", "oh", "vrc.v_oh", "Fcl_MTH_O", "mouth_o"),
    ("Joy", "happy", "Fcl_ALL_Joy", "mouthSmile", "smile"),
    ("Angry", "angry", "Fcl_ALL_Angry", "brows_down"),
    ("Surprised", "surprised", "Fcl_ALL_Surprised", "surprise", "brows_up"),
    ("Sorrow", "sad", "Fcl_ALL_Sorrow", "sorrow"),
    ("Fun", "relaxed", "Fcl_ALL_Fun"),
    ("Neutral", "neutral", "Fcl_ALL_Neutral"),
    ("LookUp", "lookUp"),
    ("LookDown", "lookDown"),
    ("LookLeft", "lookLeft"),
    ("LookRight", "lookRight"),
)
#: ``{lower-case name: its row of EXPRESSIONS}``.
_EXPRESSION_ROW = {n.lower(): row for row in EXPRESSIONS for n in row}


def match_shape_keys(names, keys) -> dict:
    """``{sent name: shape key name}``: which of a mesh's shape ``keys`` each expression of
    ``names`` drives. A key named exactly as sent (case-sensitive) first; else, for a name of
    :data:`EXPRESSIONS` (case-insensitive), the first name of its row that the mesh has a key of
    (case-insensitive). Names matching no key are left out."""
    keys = list(keys)
    exact = set(keys)
    lower = {}
    for k in keys:
        lower.setdefault(k.lower(), k)
    out = {}
    for n in names:
        if n in exact:
            out[n] = n
            continue
        row = _EXPRESSION_ROW.get(n.lower())
        hit = next((lower[a.lower()] for a in row if a.lower() in lower), None) if row else None
        if hit is not None:
            out[n] = hit
    return out


def shape_key_values(blend: dict, keys) -> dict:
    """``{shape key name: value in [0, 1]}`` for the expressions ``blend`` (``{sent name:
    value}``) on a mesh with shape ``keys`` (:func:`match_shape_keys`). Two sent names on one
    key: the exact match wins, else the larger value."""
    out, exact = {}, set()
    for n, k in match_shape_keys(blend, keys).items():
        v = clamp01(float(blend[n]))
        if n == k:
            out[k] = v
            exact.add(k)
        elif k not in exact:
            out[k] = max(v, out.get(k, 0.0))
    return out


# --------------------------------------------------------------------------------------------
# Blender (bpy) part.
# --------------------------------------------------------------------------------------------


def _wxyz(q):
    return (q[3], q[0], q[1], q[2])


def _xyzw(q):
    return (q.x, q.y, q.z, q.w)


#: Seconds between two drains of the socket (modal timer or ``bpy.app.timers``).
TIMER_INTERVAL = 1.0 / 60.0
#: The name given to the action a recording creates (Blender adds .001 ... when taken).
TAKE_NAME = "arpose take"


class _Session:
    """A scene's listening receiver: the socket, how the Start operator keeps it fed, the take
    being recorded."""

    def __init__(self, rx):
        self.rx = rx
        self.timer = None  # the bpy.app.timers function, when there is no window
        self.t0 = None  # the sender's time of the first recorded frame
        self.take = None  # the action being recorded into
        self.kept = None  # the action the armature had before recording (kept, fake user)
        self.applied = 0
        self.blend_applies = 0  # the receiver's blend_applies when shape keys were last set
        self.shape_keys = 0  # shape keys set then
        self.shape_takes = {}  # {shape key datablock name: the action being recorded into ("" until made)}
        self.shape_kept = []  # the actions those datablocks had before recording (kept, fake user)


#: ``{scene.as_pointer(): _Session}`` of the scenes listening.
_SESSIONS = {}


def _key(scene):
    return scene.as_pointer()


def _scene_by_key(key):
    return next((s for s in bpy.data.scenes if s.as_pointer() == key), None)


def is_listening(scene) -> bool:
    """True while ``scene`` has a receiver (between :func:`start` and :func:`stop`)."""
    return _key(scene) in _SESSIONS


def receiver(scene):
    """The scene's :class:`UdpReceiver` while it listens (``bad_packets``, ``state.frames`` ...), else None."""
    session = _SESSIONS.get(_key(scene))
    return session.rx if session is not None else None


def start(scene) -> None:
    """Listen for ``scene`` on ``scene.arpose_receiver``'s host and port (nothing happens if it
    already listens); frames are applied by :func:`pump`. Raises :class:`ReceiverError` if it
    cannot listen (the port is taken, the address is not this computer's ...)."""
    s = scene.arpose_receiver
    if is_listening(scene):
        return
    rx = UdpReceiver(s.port, s.host, s.person)
    _SESSIONS[_key(scene)] = _Session(rx)
    s.running, s.status = True, f"listening on {s.host}:{s.port}"


def stop(scene) -> None:
    """Stop listening for ``scene`` (the armature keeps its pose, a recording its keys)."""
    session = _SESSIONS.pop(_key(scene), None)
    if session is not None:
        _close(session)
    s = scene.arpose_receiver
    s.running, s.status = False, "stopped"


def _close(session):
    session.rx.close()
    if session.timer is not None and bpy.app.timers.is_registered(session.timer):
        bpy.app.timers.unregister(session.timer)


def bone_map(obj, fill: bool = True) -> dict:
    """``{humanoid bone: bone name}`` of the armature object ``obj`` (its Bone map fields).
    With ``fill``, an empty map is first filled by :func:`auto_map` from the bone names."""
    m = obj.arpose_bone_map
    mapping = {h: getattr(m, h) for h in HUMANOID_BONES if getattr(m, h)}
    if not mapping and fill:
        scheme, mapping = auto_map([b.name for b in obj.data.bones])
        for h, b in mapping.items():
            setattr(m, h, b)
        m.scheme = scheme or ""
    return mapping


def save_map(obj, path: str) -> None:
    """Write ``obj``'s bone map to ``path`` as JSON (:func:`map_to_json`), replacing the file whole."""
    import os

    text = map_to_json(bone_map(obj, fill=False), obj.name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def load_map(obj, path: str) -> list:
    """Set ``obj``'s bone map from a JSON file (:func:`map_from_json`); returns the names it
    gives that ``obj`` has no bone of. Raises :class:`MapError` (the map left unchanged) for a
    file that cannot be read or is not a bone map."""
    import os

    where = os.path.basename(path) or path
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise MapError(f"{where}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    mapping = map_from_json(text, where)
    m = obj.arpose_bone_map
    for h in HUMANOID_BONES:
        setattr(m, h, mapping.get(h, ""))
    m.scheme = "file " + where
    return [b for b in mapping.values() if b not in obj.data.bones]


def calibrate_object(obj, mapping=None) -> RigCalibration:
    """:func:`calibrate` for an armature object: its bones' rest pose and its ``matrix_world``."""
    bones = [
        (
            b.name,
            b.parent.name if b.parent else None,
            _xyzw(b.matrix_local.to_quaternion()),
            tuple(b.head_local),
            tuple(b.tail_local),
        )
        for b in obj.data.bones
    ]
    return calibrate(bones, bone_map(obj) if mapping is None else mapping, [tuple(r) for r in obj.matrix_world])


_ROTATION_PATH = {"QUATERNION": "rotation_quaternion", "AXIS_ANGLE": "rotation_axis_angle"}


def _set_rotation(pb, q):
    """Set a pose bone's rotation in its own rotation mode (quaternions kept in the hemisphere
    of the previous value, Euler angles compatible with it, so keys interpolate smoothly)."""
    mq = Quaternion(_wxyz(q))
    mode = pb.rotation_mode
    if mode == "QUATERNION":
        if pb.rotation_quaternion.dot(mq) < 0.0:
            mq.negate()
        pb.rotation_quaternion = mq
    elif mode == "AXIS_ANGLE":
        axis, angle = mq.to_axis_angle()
        pb.rotation_axis_angle = (angle, axis.x, axis.y, axis.z)
    else:
        pb.rotation_euler = mq.to_euler(mode, pb.rotation_euler)


def _current(obj):
    return {
        pb.name: (_xyzw(pb.matrix_basis.to_quaternion()), tuple(pb.matrix_basis.to_translation()))
        for pb in obj.pose.bones
    }


def _write(obj, basis):
    for name, (q, loc) in basis.items():
        pb = obj.pose.bones[name]
        _set_rotation(pb, q)
        if loc is not None:
            pb.location = Vector(loc)


def apply_to_armature(obj, frame, move_root: bool = True, feet: str = "floor") -> list:
    """Pose the armature object ``obj`` as ``frame`` (a :class:`ReceivedFrame`, or a
    :class:`PoseState` for its latest pose), through its bone map (auto-filled if empty);
    ``move_root`` and ``feet`` as :func:`solve_pose` takes them. Returns the names of the bones
    driven."""
    if isinstance(frame, PoseState):
        frame = frame.snapshot()
    basis, _ = solve_pose(calibrate_object(obj), frame, _current(obj), move_root, feet)
    _write(obj, basis)
    return list(basis)


def bound_meshes(obj) -> list:
    """The mesh objects an armature object ``obj`` deforms or carries: its descendants (children,
    their children ...: a glTF import's head meshes hang from a bone through an empty) and any
    mesh with an Armature modifier on ``obj``; each once, in a stable order."""
    out, seen, stack = [], set(), list(obj.children)
    while stack:
        o = stack.pop(0)
        if o.name in seen:
            continue
        seen.add(o.name)
        if o.type == "MESH":
            out.append(o)
        stack.extend(o.children)
    for o in bpy.data.objects:
        if o.type == "MESH" and o.name not in seen:
            if any(md.type == "ARMATURE" and md.object == obj for md in o.modifiers):
                seen.add(o.name)
                out.append(o)
    return out


def _shape_key_blocks(obj):
    """``(mesh, shape key datablock, {name: key block})`` for each mesh bound to the armature
    object ``obj`` that has shape keys (the basis key left out)."""
    for mesh in bound_meshes(obj):
        key = mesh.data.shape_keys
        if key is not None:
            yield mesh, key, {kb.name: kb for kb in key.key_blocks if kb != key.reference_key}


def apply_shape_keys(obj, blend: dict) -> int:
    """Set the shape keys of the meshes bound to the armature object ``obj``
    (:func:`bound_meshes`) from the expressions ``blend`` (``{sent name: value}``) as
    :func:`shape_key_values` matches them (a mesh's basis key never). Returns how many shape
    keys were set; meshes without shape keys, and names matching none, are skipped."""
    n = 0
    for _mesh, _key, blocks in _shape_key_blocks(obj):
        for name, value in shape_key_values(blend, blocks).items():
            blocks[name].value = value
            n += 1
    return n


def key_shape_keys(obj, blend: dict, frame: int, session) -> int:
    """Recording: set the shape keys :func:`apply_shape_keys` would from ``blend`` and key each
    at ``frame``, into a new action per shape key datablock ("arpose take <mesh>"; the action it
    had is kept with a fake user and unassigned, as :func:`_begin_take` does for the armature).
    ``session`` (a :class:`_Session`) remembers the takes. Returns how many keys were keyed."""
    n = 0
    for mesh, key, blocks in _shape_key_blocks(obj):
        values = shape_key_values(blend, blocks)
        if not values:
            continue
        if key.name not in session.shape_takes:
            ad = key.animation_data_create()
            if ad.action is not None:
                ad.action.use_fake_user = True
                session.shape_kept.append(ad.action.name)
                ad.action = None
            session.shape_takes[key.name] = ""
        for name, value in values.items():
            blocks[name].value = value
            blocks[name].keyframe_insert("value", frame=frame)
            n += 1
        if not session.shape_takes[key.name] and key.animation_data.action is not None:
            key.animation_data.action.name = f"{TAKE_NAME} {mesh.name}"
            session.shape_takes[key.name] = key.animation_data.action.name
    return n


def keyframe_armature(obj, names, frame: int, moved=()) -> None:
    """Key the rotation (in each bone's rotation mode) of the pose bones ``names`` at ``frame``,
    and the location of those in ``moved`` (the Hips, feet carried by the legs)."""
    for name in names:
        pb = obj.pose.bones[name]
        pb.keyframe_insert(_ROTATION_PATH.get(pb.rotation_mode, "rotation_euler"), frame=frame, group=name)
        if name in moved:
            pb.keyframe_insert("location", frame=frame, group=name)


def _begin_take(obj, session):
    """Record into a new action: the armature's current action (an imported animation, an
    earlier take) is kept in the file with a fake user and unassigned, so nothing is keyed into it."""
    ad = obj.animation_data_create()
    if ad.action is not None:
        ad.action.use_fake_user = True
        session.kept = ad.action.name
        ad.action = None
    session.take = ""


def pump(scene) -> int:
    """Receive what has arrived for ``scene`` and apply it to its chosen armature
    (``scene.arpose_receiver.armature``): every frame completed since the last call, oldest
    first, each keyed when "Record keyframes" is on (with the shape keys its expressions set:
    :func:`key_shape_keys`); and, when an ``/VMC/Ext/Blend/Apply`` arrived since the last call,
    the expressions applied so far to the shape keys of the meshes bound to it
    (:func:`apply_shape_keys`). Returns the number of frames applied (0
    when none arrived). The Start operator's timer calls it; scripts and headless Blender call
    it in a loop after :func:`start`.

    Raises :class:`ReceiverError` if the scene is not listening, :class:`ArmatureError` if no
    armature is chosen or its transform cannot be used.
    """
    session = _SESSIONS.get(_key(scene))
    if session is None:
        raise ReceiverError("not listening: press Start in the arpose panel, or call start(scene) first")
    s = scene.arpose_receiver
    obj = s.armature
    if obj is None or obj.type != "ARMATURE":
        raise ArmatureError("no armature chosen: pick one in the arpose panel (Armature)")
    rx = session.rx
    rx.state.person = s.person
    rx.poll()
    blended = rx.state.blend_applies != session.blend_applies  # expressions applied since the last call
    if blended:
        session.blend_applies = rx.state.blend_applies
        session.shape_keys = apply_shape_keys(obj, rx.state.blend)
    frames = rx.state.take_frames()
    if not frames:
        if blended and rx.state.blend:  # a face-only sender, or its Apply after the frame's end
            s.status = _shape_key_note(session, rx)
        return 0
    mapping = bone_map(obj)
    if not mapping:
        s.status = f"{rx.state.frames} frames; no bone of {obj.name} has a known name: fill the Bone map"
        return 0
    cal = calibrate_object(obj, mapping)
    current = _current(obj)
    if not s.record:
        session.t0, session.take, session.shape_takes = None, None, {}
    moved = {cal.mapping[h] for h in cal.carried}
    if s.move_root and "Hips" in cal.mapping:
        moved.add(cal.mapping["Hips"])
    fps = scene.render.fps / scene.render.fps_base
    driven = 0
    for f in frames:
        basis, _ = solve_pose(cal, f, current, s.move_root, s.feet.lower())
        _write(obj, basis)
        driven = max(driven, len(basis))
        if s.record and basis:
            if session.take is None:
                _begin_take(obj, session)
            if session.t0 is None:
                session.t0 = f.timestamp
            at = record_frame(session.t0, f.timestamp, fps, scene.frame_start)
            keyframe_armature(obj, basis, at, moved)
            if f.blend:  # the expressions applied by this frame, keyed with it
                key_shape_keys(obj, f.blend, at, session)
            if not session.take and obj.animation_data.action is not None:
                obj.animation_data.action.name = TAKE_NAME
                session.take = obj.animation_data.action.name
    session.applied += len(frames)
    notes = [f"{rx.state.frames} frames", f"{driven} of {len(cal.mapping)} bones ({obj.arpose_bone_map.scheme})"]
    if rx.state.blend:
        notes.append(_shape_key_note(session, rx))
    if rx.state.tracking is False:
        notes.append("tracking lost")
    if session.take:
        notes.append(f"recording into {session.take!r}" + (f", {session.kept!r} kept" if session.kept else ""))
    if rx.bad_packets:
        notes.append(f"{rx.bad_packets} bad packets skipped")
    if rx.state.dropped_frames:
        notes.append(f"{rx.state.dropped_frames} frames dropped")
    if session.shape_takes:
        notes.append(f"shape keys into {', '.join(repr(t) for t in session.shape_takes.values() if t)}")
    notes.extend(cal.problems)
    s.status = ", ".join(notes)[:300]
    return len(frames)


def _shape_key_note(session, rx) -> str:
    return f"{session.shape_keys} shape keys set from {len(rx.state.blend)} expressions"


def _tick(scene) -> bool:
    """One timer tick: :func:`pump`; on an error, stop and say why in the panel."""
    try:
        pump(scene)
    except Exception as exc:  # the armature was deleted, its transform became singular ...
        stop(scene)
        scene.arpose_receiver.status = f"stopped: {exc}"[:300]
        return False
    finally:
        _redraw()
    return True


def _redraw():
    try:
        for window in bpy.context.window_manager.windows:
            for area in window.screen.areas:
                if area.type == "VIEW_3D":
                    area.tag_redraw()
    except (AttributeError, RuntimeError, ReferenceError):
        pass


def _timer_tick(key):
    """``bpy.app.timers`` callback: pump the scene ``key`` while it listens."""
    scene = _scene_by_key(key)
    if scene is None or not is_listening(scene):
        return None
    return TIMER_INTERVAL if _tick(scene) else None


def _start_timer(scene):
    session = _SESSIONS[_key(scene)]
    session.timer = functools.partial(_timer_tick, _key(scene))
    bpy.app.timers.register(session.timer, first_interval=TIMER_INTERVAL)


if bpy is not None:  # pragma: no cover - needs Blender
    from bpy_extras.io_utils import ExportHelper, ImportHelper

    def _armature_poll(self, obj):
        return obj.type == "ARMATURE"

    class ArposeReceiverSettings(bpy.types.PropertyGroup):
        armature: bpy.props.PointerProperty(name="Armature", type=bpy.types.Object, poll=_armature_poll)
        port: bpy.props.IntProperty(
            name="Port", default=39539, min=1, max=65535, description="UDP port: 39539 for --vmc, 9000 for --osc"
        )
        host: bpy.props.StringProperty(
            name="Listen on",
            default=DEFAULT_HOST,
            description="Address to listen on: 127.0.0.1 is this computer only; another address (0.0.0.0: every "
            "interface) lets anyone on that network move the armature",
        )
        person: bpy.props.IntProperty(
            name="Person id", default=0, min=0, description="Raw stream only: which person drives the armature"
        )
        move_root: bpy.props.BoolProperty(
            name="Move hips",
            default=True,
            description="Translate the Hips (scaled to the armature's legs, feet on its floor), not only rotate bones",
        )
        feet: bpy.props.EnumProperty(
            name="Feet",
            items=(
                (
                    "FLOOR",
                    "On the floor",
                    "The lower foot stays on the armature's floor (its rest height), whatever "
                    "hip height is sent; jumps are not followed",
                ),
                (
                    "STREAM",
                    "As sent",
                    "The feet are as high above the floor as the sender's: jumps are followed, "
                    "and so are errors in the sent hip height",
                ),
            ),
            default="FLOOR",
        )
        record: bpy.props.BoolProperty(
            name="Record keyframes",
            default=False,
            description="Also keyframe every received frame into a new action, from the scene's start frame, "
            "timed by the sender's clock",
        )
        running: bpy.props.BoolProperty(default=False)
        status: bpy.props.StringProperty(default="stopped")

    ArposeBoneMap = type(
        "ArposeBoneMap",
        (bpy.types.PropertyGroup,),
        {
            "__annotations__": dict(
                {h: bpy.props.StringProperty(name=h, description=f"The bone that plays {h}") for h in HUMANOID_BONES},
                scheme=bpy.props.StringProperty(name="Names", description="Where the map came from"),
            )
        },
    )

    class ARPOSE_OT_create_armature(bpy.types.Operator):
        """Add an armature with arpose's skeleton in T-pose: body, fingers and eyes (HumanBodyBones names)"""

        bl_idname = "arpose.create_armature"
        bl_label = "Create arpose armature"
        bl_options = {"REGISTER", "UNDO"}

        def execute(self, context):
            data = bpy.data.armatures.new("arpose")
            obj = bpy.data.objects.new("arpose", data)
            context.collection.objects.link(obj)
            context.view_layer.objects.active = obj
            bpy.ops.object.mode_set(mode="EDIT")
            joints = rest_joints_blender()
            for name, parent, _, _ in FULL_SKELETON:
                eb = data.edit_bones.new(name)
                eb.head, eb.tail = joints[name]
                if parent:
                    eb.parent = data.edit_bones[parent]
            bpy.ops.object.mode_set(mode="OBJECT")
            context.scene.arpose_receiver.armature = obj
            return {"FINISHED"}

    class ARPOSE_OT_start(bpy.types.Operator):
        """Listen on the port and drive the armature until Stop"""

        bl_idname = "arpose.start"
        bl_label = "Start"

        _timer = None
        _key = None

        def execute(self, context):
            scene = context.scene
            if scene.arpose_receiver.armature is None:
                self.report({"ERROR"}, "pick an armature first (or Create arpose armature)")
                return {"CANCELLED"}
            try:
                start(scene)
            except ReceiverError as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            if context.window is None or bpy.app.background:  # no window events: Blender's timers
                _start_timer(scene)
                return {"FINISHED"}
            self._key = _key(scene)
            wm = context.window_manager
            self._timer = wm.event_timer_add(TIMER_INTERVAL, window=context.window)
            wm.modal_handler_add(self)
            return {"RUNNING_MODAL"}

        def modal(self, context, event):
            scene = _scene_by_key(self._key)
            if scene is None or not is_listening(scene):
                context.window_manager.event_timer_remove(self._timer)
                return {"FINISHED"}
            if event.type == "TIMER":
                _tick(scene)
            return {"PASS_THROUGH"}

        def cancel(self, context):
            context.window_manager.event_timer_remove(self._timer)
            scene = _scene_by_key(self._key)
            if scene is not None:
                stop(scene)

    class ARPOSE_OT_stop(bpy.types.Operator):
        """Stop listening (the armature keeps its last pose)"""

        bl_idname = "arpose.stop"
        bl_label = "Stop"

        def execute(self, context):
            stop(context.scene)
            return {"FINISHED"}

    def _chosen(op, context):
        obj = context.scene.arpose_receiver.armature
        if obj is None or obj.type != "ARMATURE":
            op.report({"ERROR"}, "pick an armature first")
            return None
        return obj

    class ARPOSE_OT_auto_map(bpy.types.Operator):
        """Fill the bone map from the bone names (Mixamo, VRM, Rigify, Character Creator, Unreal, glTF samples, arpose)"""

        bl_idname = "arpose.auto_map"
        bl_label = "Auto-map bones"
        bl_options = {"REGISTER", "UNDO"}

        replace: bpy.props.BoolProperty(name="Replace", default=False, description="Also replace fields already set")

        def execute(self, context):
            obj = _chosen(self, context)
            if obj is None:
                return {"CANCELLED"}
            scheme, found = auto_map([b.name for b in obj.data.bones])
            if not found:
                self.report({"WARNING"}, f"no bone of {obj.name} has a known name: pick each bone in the fields")
                return {"CANCELLED"}
            m = obj.arpose_bone_map
            filled = 0
            for h, b in found.items():
                if self.replace or not getattr(m, h):
                    setattr(m, h, b)
                    filled += 1
            m.scheme = scheme
            self.report({"INFO"}, f"{len(found)} bones named as {scheme}; {filled} fields filled")
            return {"FINISHED"}

    class ARPOSE_OT_save_map(bpy.types.Operator, ExportHelper):
        """Save the armature's bone map as JSON"""

        bl_idname = "arpose.save_map"
        bl_label = "Save bone map"
        filename_ext = ".json"
        filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

        def execute(self, context):
            obj = _chosen(self, context)
            if obj is None:
                return {"CANCELLED"}
            try:
                save_map(obj, self.filepath)
            except OSError as exc:
                self.report({"ERROR"}, f"{self.filepath}: cannot write it ({exc.strerror or exc})")
                return {"CANCELLED"}
            self.report({"INFO"}, f"bone map saved to {self.filepath}")
            return {"FINISHED"}

    class ARPOSE_OT_load_map(bpy.types.Operator, ImportHelper):
        """Load a bone map saved as JSON (replaces the armature's map)"""

        bl_idname = "arpose.load_map"
        bl_label = "Load bone map"
        bl_options = {"REGISTER", "UNDO"}
        filename_ext = ".json"
        filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

        def execute(self, context):
            obj = _chosen(self, context)
            if obj is None:
                return {"CANCELLED"}
            try:
                missing = load_map(obj, self.filepath)
            except MapError as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            if missing:
                self.report({"WARNING"}, f"{obj.name} has no bone {', '.join(missing[:5])}: pick them in the fields")
            return {"FINISHED"}

    class ARPOSE_PT_panel(bpy.types.Panel):
        bl_label = "arpose live"
        bl_idname = "ARPOSE_PT_panel"
        bl_space_type = "VIEW_3D"
        bl_region_type = "UI"
        bl_category = "arpose"

        def draw(self, context):
            s = context.scene.arpose_receiver
            col = self.layout.column()
            col.prop(s, "armature")
            col.operator("arpose.create_armature", icon="ARMATURE_DATA")
            col.prop(s, "host")
            warning = listen_warning(s.host)
            if warning:
                col.label(text=warning, icon="ERROR")
            col.prop(s, "port")
            col.prop(s, "person")
            col.prop(s, "move_root")
            col.prop(s, "feet")
            col.prop(s, "record")
            if is_listening(context.scene):
                col.operator("arpose.stop", icon="PAUSE")
            else:
                col.operator("arpose.start", icon="PLAY")
            col.label(text=s.status)
            obj = s.armature
            ad = obj.animation_data if obj is not None else None
            if ad is not None and ad.action is not None and not s.record:
                col.label(text=f"its action {ad.action.name!r} also poses it when the frame changes", icon="INFO")

    class ARPOSE_PT_bone_map(bpy.types.Panel):
        bl_label = "Bone map"
        bl_idname = "ARPOSE_PT_bone_map"
        bl_parent_id = "ARPOSE_PT_panel"
        bl_space_type = "VIEW_3D"
        bl_region_type = "UI"
        bl_category = "arpose"
        bl_options = {"DEFAULT_CLOSED"}

        def draw(self, context):
            obj = context.scene.arpose_receiver.armature
            col = self.layout.column()
            if obj is None or obj.type != "ARMATURE":
                col.label(text="pick an armature above")
                return
            m = obj.arpose_bone_map
            col.operator("arpose.auto_map", icon="AUTO")
            col.operator("arpose.load_map", icon="FILEBROWSER")
            col.operator("arpose.save_map", icon="FILE_TICK")
            if m.scheme:
                col.label(text=f"names: {m.scheme}")
            for group, names in (("Body", BODY_BONES), ("Fingers", FINGER_BONES), ("Eyes", EYE_BONES)):
                col.label(text=group)
                for h in names:
                    col.prop_search(m, h, obj.data, "bones", text=h)

    @bpy.app.handlers.persistent
    def _on_load(*_args):
        """A file is being loaded: its scenes replace these, so every receiver stops."""
        for key in list(_SESSIONS):
            _close(_SESSIONS.pop(key))

    @bpy.app.handlers.persistent
    def _after_load(*_args):
        """A loaded file listens nowhere, whatever its scenes said when it was saved."""
        for scene in bpy.data.scenes:
            scene.arpose_receiver.running, scene.arpose_receiver.status = False, "stopped"

    _CLASSES = (
        ArposeReceiverSettings,
        ArposeBoneMap,
        ARPOSE_OT_create_armature,
        ARPOSE_OT_start,
        ARPOSE_OT_stop,
        ARPOSE_OT_auto_map,
        ARPOSE_OT_save_map,
        ARPOSE_OT_load_map,
        ARPOSE_PT_panel,
        ARPOSE_PT_bone_map,
    )


def register():
    if bpy is None:
        raise RuntimeError("the arpose receiver add-on runs inside Blender")
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.arpose_receiver = bpy.props.PointerProperty(type=ArposeReceiverSettings)
    bpy.types.Object.arpose_bone_map = bpy.props.PointerProperty(type=ArposeBoneMap)
    if _on_load not in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.append(_on_load)
    if _after_load not in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.append(_after_load)


def unregister():
    if bpy is None:
        return
    for key in list(_SESSIONS):
        _close(_SESSIONS.pop(key))
    if _on_load in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(_on_load)
    if _after_load in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_after_load)
    del bpy.types.Object.arpose_bone_map
    del bpy.types.Scene.arpose_receiver
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)


if __name__ == "__main__":  # pragma: no cover - run from Blender's text editor
    register()
