"""The humanoid skeleton as data: the one place retargeting, the synthetic performer,
rendering, BVH and VMC read bones from.

Rig frame (all rest offsets, global joint positions and rotations here)
-----------------------------------------------------------------------
Metres, right-handed, **+Y up, +Z the subject's forward (facing direction), +X the subject's
left** (glTF / VRM 1.0 convention). The rest pose is a T-pose facing +Z with every local
rotation the identity, so a bone's local frame in rest is aligned with the rig axes (the BVH
convention: zero rotation channels = rest). Quaternions are ``(x, y, z, w)``.

Related frames
--------------
* MediaPipe world (x image-right, y down, z away from camera) and the OpenCV camera frame
  (x right, y down, z forward) map to rig axes for a subject *facing the camera* by a
  180 degree turn about X: ``rig = diag(1, -1, -1) @ mp`` (:data:`MP_TO_RIG`). Then the
  subject's left (+X rig) is the image's right, as it is in an unmirrored camera image.
* Unity (VMC) is left-handed, Y up, +Z forward, **+X right**: negate X of positions and
  ``(y, z)`` of quaternions (:func:`rig_to_unity_position`, :func:`rig_to_unity_quaternion`).

Joints from landmarks
---------------------
Each bone's joint (its head, where it rotates) is a fixed linear combination of the 33
BlazePose landmarks (:data:`JOINT_WEIGHTS`, shape ``(B, 33)``); leaf bones have an end
point too (:data:`END_WEIGHTS`). Virtual joints: Hips = hip centre, Spine / Chest /
UpperChest = points from the hip centre towards the shoulder centre, Neck = shoulder
centre, Head = ear centre. The synthetic performer places the 33 markers on the posed
skeleton with :data:`MARKER_BONE` / :data:`MARKER_OFFSETS`, consistent with those weights
at rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .landmarks import NUM_LANDMARKS
from .landmarks import PoseLandmark as L


@dataclass(frozen=True)
class Bone:
    """name: Unity HumanBodyBones / VRM name. parent: parent bone name (None for the root).
    offset: ``(3,)`` metres, rig frame, this joint relative to the parent joint at rest.
    end: ``(3,)`` end-site offset from this joint at rest for leaf bones, else None."""

    name: str
    parent: str | None
    offset: tuple[float, float, float]
    end: tuple[float, float, float] | None = None


# Default body: 1.72 m tall. Key heights: hip joints 0.93, shoulders 1.43, ears 1.60.
_HIP_HALF, _SHOULDER_HALF = 0.09, 0.19
_TORSO = 0.50  # hip centre to shoulder centre
_SPINE_FRACTIONS = (0.2, 0.45, 0.7)  # Spine, Chest, UpperChest along the torso
_CLAVICLE_FRACTION = 0.15  # LeftShoulder joint: this far from the shoulder centre to the shoulder

_bones: list[Bone] = [
    Bone("Hips", None, (0.0, 0.93, 0.0)),
    Bone("Spine", "Hips", (0.0, _TORSO * 0.2, 0.0)),
    Bone("Chest", "Spine", (0.0, _TORSO * 0.25, 0.0)),
    Bone("UpperChest", "Chest", (0.0, _TORSO * 0.25, 0.0)),
    Bone("Neck", "UpperChest", (0.0, _TORSO * 0.3, 0.0)),
    Bone("Head", "Neck", (0.0, 0.17, 0.0), end=(0.0, 0.13, 0.0)),
]
for side, sx in (("Left", 1.0), ("Right", -1.0)):
    _bones += [
        Bone(f"{side}Shoulder", "UpperChest", (sx * _SHOULDER_HALF * _CLAVICLE_FRACTION, _TORSO * 0.3, 0.0)),
        Bone(f"{side}UpperArm", f"{side}Shoulder", (sx * _SHOULDER_HALF * (1 - _CLAVICLE_FRACTION), 0.0, 0.0)),
        Bone(f"{side}LowerArm", f"{side}UpperArm", (sx * 0.28, 0.0, 0.0)),
        Bone(f"{side}Hand", f"{side}LowerArm", (sx * 0.25, 0.0, 0.0), end=(sx * 0.08, 0.0, 0.0)),
    ]
for side, sx in (("Left", 1.0), ("Right", -1.0)):
    _bones += [
        Bone(f"{side}UpperLeg", "Hips", (sx * _HIP_HALF, 0.0, 0.0)),
        Bone(f"{side}LowerLeg", f"{side}UpperLeg", (0.0, -0.43, 0.0)),
        Bone(f"{side}Foot", f"{side}LowerLeg", (0.0, -0.42, 0.0)),
        Bone(f"{side}Toes", f"{side}Foot", (0.0, -0.06, 0.105), end=(0.0, 0.0, 0.055)),
    ]

#: The humanoid bones, parents before children.
BONES: tuple[Bone, ...] = tuple(_bones)
BONE_NAMES: tuple[str, ...] = tuple(b.name for b in BONES)
BONE_INDEX: dict[str, int] = {n: i for i, n in enumerate(BONE_NAMES)}
NUM_BONES = len(BONES)
#: ``PARENTS[i]`` is the parent bone index of bone ``i`` (-1 for the root).
PARENTS: np.ndarray = np.array([BONE_INDEX[b.parent] if b.parent else -1 for b in BONES], dtype=np.intp)
#: ``(B, 3)`` rest offsets, metres, rig frame.
REST_OFFSETS: np.ndarray = np.array([b.offset for b in BONES], dtype=np.float64)
#: ``(B, 3)`` end-site offsets for leaf bones, NaN rows for the others.
END_OFFSETS: np.ndarray = np.array([b.end if b.end else (np.nan,) * 3 for b in BONES], dtype=np.float64)
LEAF_BONES: tuple[str, ...] = tuple(b.name for b in BONES if b.end is not None)
#: ``CHILDREN[i]``: indices of bone ``i``'s children.
CHILDREN: tuple[tuple[int, ...], ...] = tuple(
    tuple(j for j in range(NUM_BONES) if PARENTS[j] == i) for i in range(NUM_BONES)
)

#: MediaPipe world / OpenCV camera axes to rig axes for a subject facing the camera.
MP_TO_RIG: np.ndarray = np.diag([1.0, -1.0, -1.0])


def _weights(*terms: tuple[int, float]) -> np.ndarray:
    w = np.zeros(NUM_LANDMARKS)
    for lm, k in terms:
        w[int(lm)] += k
    return w


def _mix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return (1.0 - t) * a + t * b


_HIPC = _weights((L.LEFT_HIP, 0.5), (L.RIGHT_HIP, 0.5))
_SHC = _weights((L.LEFT_SHOULDER, 0.5), (L.RIGHT_SHOULDER, 0.5))
_EARC = _weights((L.LEFT_EAR, 0.5), (L.RIGHT_EAR, 0.5))


def _joint_weights() -> tuple[np.ndarray, np.ndarray]:
    j = np.zeros((NUM_BONES, NUM_LANDMARKS))
    e = np.full((NUM_BONES, NUM_LANDMARKS), np.nan)
    j[BONE_INDEX["Hips"]] = _HIPC
    for name, t in zip(("Spine", "Chest", "UpperChest"), _SPINE_FRACTIONS):
        j[BONE_INDEX[name]] = _mix(_HIPC, _SHC, t)
    j[BONE_INDEX["Neck"]] = _SHC
    j[BONE_INDEX["Head"]] = _EARC
    for side in ("LEFT", "RIGHT"):
        s = side.capitalize()
        sh = _weights((L[f"{side}_SHOULDER"], 1.0))
        j[BONE_INDEX[f"{s}Shoulder"]] = _mix(_SHC, sh, _CLAVICLE_FRACTION)
        j[BONE_INDEX[f"{s}UpperArm"]] = sh
        j[BONE_INDEX[f"{s}LowerArm"]] = _weights((L[f"{side}_ELBOW"], 1.0))
        j[BONE_INDEX[f"{s}Hand"]] = _weights((L[f"{side}_WRIST"], 1.0))
        e[BONE_INDEX[f"{s}Hand"]] = _weights((L[f"{side}_INDEX"], 0.5), (L[f"{side}_PINKY"], 0.5))
        j[BONE_INDEX[f"{s}UpperLeg"]] = _weights((L[f"{side}_HIP"], 1.0))
        j[BONE_INDEX[f"{s}LowerLeg"]] = _weights((L[f"{side}_KNEE"], 1.0))
        j[BONE_INDEX[f"{s}Foot"]] = _weights((L[f"{side}_ANKLE"], 1.0))
        j[BONE_INDEX[f"{s}Toes"]] = _weights((L[f"{side}_HEEL"], 0.25), (L[f"{side}_FOOT_INDEX"], 0.75))
        e[BONE_INDEX[f"{s}Toes"]] = _weights((L[f"{side}_FOOT_INDEX"], 1.0))
    # Head end: the top of the head is not a landmark; the solver extrapolates it.
    return j, e


#: ``(B, 33)``: ``joints = JOINT_WEIGHTS @ landmarks`` for ``(33, 3)`` landmark positions.
#: ``END_WEIGHTS`` likewise for leaf end points (rows of NaN where there is none from landmarks).
JOINT_WEIGHTS, END_WEIGHTS = _joint_weights()


def _marker_table() -> tuple[np.ndarray, np.ndarray]:
    bone = np.zeros(NUM_LANDMARKS, dtype=np.intp)
    off = np.zeros((NUM_LANDMARKS, 3))

    def put(lm: L, bone_name: str, xyz: tuple[float, float, float]) -> None:
        bone[int(lm)] = BONE_INDEX[bone_name]
        off[int(lm)] = xyz

    put(L.NOSE, "Head", (0.0, 0.0, 0.105))
    for side, sx in (("LEFT", 1.0), ("RIGHT", -1.0)):
        s = side.capitalize()
        put(L[f"{side}_EYE_INNER"], "Head", (sx * 0.015, 0.035, 0.085))
        put(L[f"{side}_EYE"], "Head", (sx * 0.032, 0.035, 0.08))
        put(L[f"{side}_EYE_OUTER"], "Head", (sx * 0.048, 0.035, 0.07))
        put(L[f"{side}_EAR"], "Head", (sx * 0.075, 0.0, 0.0))
        put(L[f"MOUTH_{side}"], "Head", (sx * 0.025, -0.045, 0.09))
        put(L[f"{side}_SHOULDER"], f"{s}UpperArm", (0.0, 0.0, 0.0))
        put(L[f"{side}_ELBOW"], f"{s}LowerArm", (0.0, 0.0, 0.0))
        put(L[f"{side}_WRIST"], f"{s}Hand", (0.0, 0.0, 0.0))
        # T-pose, palms down: the hand points along +-X, the thumb side faces forward (+Z).
        put(L[f"{side}_INDEX"], f"{s}Hand", (sx * 0.085, 0.0, 0.03))
        put(L[f"{side}_PINKY"], f"{s}Hand", (sx * 0.075, 0.0, -0.03))
        put(L[f"{side}_THUMB"], f"{s}Hand", (sx * 0.045, -0.01, 0.05))
        put(L[f"{side}_HIP"], f"{s}UpperLeg", (0.0, 0.0, 0.0))
        put(L[f"{side}_KNEE"], f"{s}LowerLeg", (0.0, 0.0, 0.0))
        put(L[f"{side}_ANKLE"], f"{s}Foot", (0.0, 0.0, 0.0))
        put(L[f"{side}_HEEL"], f"{s}Foot", (0.0, -0.06, -0.06))
        put(L[f"{side}_FOOT_INDEX"], f"{s}Foot", (0.0, -0.06, 0.16))
    return bone, off


#: Where the performer places each of the 33 markers: ``MARKER_BONE[i]`` the bone index,
#: ``MARKER_OFFSETS[i]`` ``(3,)`` metres in that bone's frame (rig axes at rest).
MARKER_BONE, MARKER_OFFSETS = _marker_table()


def scaled_offsets(height: float = 1.72) -> np.ndarray:
    """``(B, 3)`` rest offsets uniformly scaled for a person ``height`` metres tall."""
    return REST_OFFSETS * (height / 1.72)


def forward_kinematics(
    local_rotations: np.ndarray,
    root_position: np.ndarray,
    offsets: np.ndarray = REST_OFFSETS,
    root_rotation: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Global joint positions and rotations from local rotations.

    local_rotations: ``(..., B, 4)`` quaternions ``(x, y, z, w)``, each bone relative to its
        parent (the root's is relative to the rig / world frame).
    root_position: ``(..., 3)`` metres, the Hips joint in the rig / world frame (replaces
        the root offset).
    offsets: ``(B, 3)`` rest offsets (rig frame). root_rotation: optional ``(..., 4)``
        extra rotation applied on top of everything (e.g. rig to camera).
    Returns ``(positions (..., B, 3), rotations (..., B, 4))`` in the same frame as
    ``root_position``.
    """
    from scipy.spatial.transform import Rotation

    q = np.asarray(local_rotations, dtype=np.float64)
    lead = q.shape[:-2]
    qf = q.reshape(-1, NUM_BONES, 4)
    rootp = np.broadcast_to(np.asarray(root_position, dtype=np.float64), lead + (3,)).reshape(-1, 3)
    n = qf.shape[0]
    grot: list[Rotation] = [None] * NUM_BONES  # type: ignore[list-item]
    gpos = np.zeros((n, NUM_BONES, 3))
    extra = None
    if root_rotation is not None:
        extra = Rotation.from_quat(np.broadcast_to(root_rotation, lead + (4,)).reshape(-1, 4))
    for i in range(NUM_BONES):
        local = Rotation.from_quat(qf[:, i])
        p = PARENTS[i]
        if p < 0:
            grot[i] = extra * local if extra is not None else local
            gpos[:, i] = rootp
        else:
            grot[i] = grot[p] * local
            gpos[:, i] = gpos[:, p] + grot[p].apply(offsets[i])
    rots = np.stack([g.as_quat() for g in grot], axis=1)
    return gpos.reshape(lead + (NUM_BONES, 3)), rots.reshape(lead + (NUM_BONES, 4))


def markers_from_pose(positions: np.ndarray, rotations: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The 33 BlazePose-equivalent markers on a posed skeleton.

    positions: ``(..., B, 3)`` global joint positions; rotations: ``(..., B, 4)`` global
    rotations ``(x, y, z, w)`` (from :func:`forward_kinematics`); scale: body scale applied to
    :data:`MARKER_OFFSETS`. Returns ``(..., 33, 3)`` in the same frame.
    """
    from scipy.spatial.transform import Rotation

    pos = np.asarray(positions, dtype=np.float64)
    rot = np.asarray(rotations, dtype=np.float64)
    lead = pos.shape[:-2]
    p = pos.reshape(-1, NUM_BONES, 3)[:, MARKER_BONE]  # (n, 33, 3)
    r = Rotation.from_quat(rot.reshape(-1, NUM_BONES, 4)[:, MARKER_BONE].reshape(-1, 4))
    off = np.tile(MARKER_OFFSETS * scale, (p.shape[0], 1))
    out = p + r.apply(off).reshape(p.shape)
    return out.reshape(lead + (NUM_LANDMARKS, 3))


def joints_from_landmarks(points: np.ndarray) -> np.ndarray:
    """``(..., 33, 3)`` landmark positions to ``(..., B, 3)`` joint positions via
    :data:`JOINT_WEIGHTS` (same frame and units as the input)."""
    return np.einsum("bl,...lc->...bc", JOINT_WEIGHTS, np.asarray(points, dtype=np.float64))


def rest_pose() -> tuple[np.ndarray, np.ndarray]:
    """Global ``(B, 3)`` positions and ``(B, 4)`` rotations of the default T-pose."""
    ident = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    return forward_kinematics(ident, REST_OFFSETS[0])


def rig_to_unity_position(p: np.ndarray) -> np.ndarray:
    """Rig frame (right-handed, +X subject's left) to Unity (left-handed, +X right):
    ``(..., 3)`` -> ``(..., 3)``, negating x."""
    q = np.array(p, dtype=np.float64, copy=True)
    q[..., 0] *= -1.0
    return q


def rig_to_unity_quaternion(q: np.ndarray) -> np.ndarray:
    """Rig-frame quaternion ``(..., 4)`` ``(x, y, z, w)`` to Unity's left-handed frame
    (X mirrored): ``(x, -y, -z, w)``."""
    r = np.array(q, dtype=np.float64, copy=True)
    r[..., 1] *= -1.0
    r[..., 2] *= -1.0
    return r


def _sided(table: dict[str, str], left: str, right: str) -> dict[str, str]:
    """``{"Shoulder": "X_{s}_Y"}`` -> Left/Right entries with ``{s}`` replaced by ``left`` / ``right``."""
    out = {}
    for bone, pattern in table.items():
        if "{s}" in pattern:
            out[f"Left{bone}"] = pattern.format(s=left)
            out[f"Right{bone}"] = pattern.format(s=right)
        else:
            out[bone] = pattern
    return out


_LIMBS = ("Shoulder", "UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot", "Toes")

#: Node names of the humanoid bones in rigs people bring, by naming scheme: ``{scheme: {bone:
#: node name}}`` with bone names from :data:`BONE_NAMES` (Left = the subject's left). Names
#: compare case-insensitively; Mixamo's ``mixamorig:`` / ``mixamorig_`` / ``mixamorig1:``
#: prefixes are stripped first (:func:`rig_node_key`). VRM files name their bones in the file
#: (``humanBones``) and need no table; the ``vrm`` scheme is for VRoid rigs exported as glTF.
#: ``cesium_man`` and ``robot_expressive`` are the Khronos sample models CesiumMan and
#: RobotExpressive (Robot's legs and spine hang from ``Body``, so that is its Hips; its feet
#: and hands are outside the arm and leg chains and are left out when read).
RIG_BONE_NAMES: dict[str, dict[str, str]] = {
    "mixamo": _sided(
        dict(
            Hips="Hips",
            Spine="Spine",
            Chest="Spine1",
            UpperChest="Spine2",
            Neck="Neck",
            Head="Head",
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
            Hips="J_Bip_C_Hips",
            Spine="J_Bip_C_Spine",
            Chest="J_Bip_C_Chest",
            UpperChest="J_Bip_C_UpperChest",
            Neck="J_Bip_C_Neck",
            Head="J_Bip_C_Head",
            **{b: f"J_Bip_{{s}}_{b}" for b in _LIMBS if b != "Toes"},
            Toes="J_Bip_{s}_ToeBase",
        ),
        "L",
        "R",
    ),
    "unreal": _sided(
        dict(
            Hips="pelvis",
            Spine="spine_01",
            Chest="spine_02",
            UpperChest="spine_03",
            Neck="neck_01",
            Head="head",
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
            Hips="DEF-spine",
            Spine="DEF-spine.001",
            Chest="DEF-spine.002",
            UpperChest="DEF-spine.003",
            Neck="DEF-spine.004",
            Head="DEF-spine.006",
            **dict(
                zip(
                    _LIMBS,
                    (
                        "DEF-shoulder.{s}",
                        "DEF-upper_arm.{s}",
                        "DEF-forearm.{s}",
                        "DEF-hand.{s}",
                        "DEF-thigh.{s}",
                        "DEF-shin.{s}",
                        "DEF-foot.{s}",
                        "DEF-toe.{s}",
                    ),
                )
            ),
        ),
        "L",
        "R",
    ),
    "character_creator": _sided(
        dict(
            Hips="CC_Base_Hip",
            Spine="CC_Base_Waist",
            Chest="CC_Base_Spine01",
            UpperChest="CC_Base_Spine02",
            Neck="CC_Base_NeckTwist01",
            Head="CC_Base_Head",
            **dict(
                zip(
                    _LIMBS,
                    (
                        "CC_Base_{s}_Clavicle",
                        "CC_Base_{s}_Upperarm",
                        "CC_Base_{s}_Forearm",
                        "CC_Base_{s}_Hand",
                        "CC_Base_{s}_Thigh",
                        "CC_Base_{s}_Calf",
                        "CC_Base_{s}_Foot",
                        "CC_Base_{s}_ToeBase",
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
            **{b: f"{b}{{s}}" for b in ("Shoulder", "UpperArm", "LowerArm", "UpperLeg", "LowerLeg", "Foot")},
        ),
        "L",
        "R",
    ),
}


def rig_node_key(name: str) -> str:
    """A node name as :data:`RIG_BONE_NAMES` compares it: lower case, without a Mixamo prefix
    (``mixamorig:``, ``mixamorig_``, ``mixamorig1:`` ...)."""
    import re

    return re.sub(r"^mixamorig\d*[:_]", "", name.strip()).lower()


# ----------------------------------------------------------------------------------------
# Fingers and eyes: the 30 humanoid finger bones and the two eye bones, as data beside the 22
# body bones (which keep their order; BVH and VMC of the body read only :data:`BONES`).
#
# Rest pose: the T-pose hand of the body skeleton, palm down (-Y), fingers straight along the
# arm (+X for the subject's left hand, -X for the right), the four fingers side by side in Z
# (index forward, +Z), the thumb pointing forward and out at 45 degrees in the palm's plane (the
# VRM T-pose thumb). Every local rotation is the identity at rest, so each bone's rest frame is
# aligned with the rig axes, as for the body. Unity HumanBodyBones names: the thumb's
# ``Proximal`` / ``Intermediate`` / ``Distal`` sit at the thumb's CMC / MCP / IP joints (VRM 1.0
# calls them thumbMetacarpal / thumbProximal / thumbDistal).

#: Humanoid names of the three finger segments, base to tip.
PHALANGES = ("Proximal", "Intermediate", "Distal")
#: Humanoid names of the five fingers (same order as :class:`arpose.landmarks.Finger`).
FINGER_NAMES = ("Thumb", "Index", "Middle", "Ring", "Little")

_R2 = 0.5**0.5
#: Per finger (left hand; the right mirrors X): base joint offset from the Hand joint (metres,
#: rig frame), unit rest direction of the finger, and the lengths of its three segments. The
#: middle knuckle lies straight ahead of the wrist (+X), so the hand frame measured from
#: landmarks (wrist -> middle knuckle, pinky -> index knuckle) is the rest frame at rest.
_FINGER_REST = {
    "Thumb": ((0.025, -0.01, 0.02), (_R2, 0.0, _R2), (0.045, 0.032, 0.028)),
    "Index": ((0.085, 0.0, 0.025), (1.0, 0.0, 0.0), (0.040, 0.025, 0.022)),
    "Middle": ((0.088, 0.0, 0.0), (1.0, 0.0, 0.0), (0.045, 0.028, 0.024)),
    "Ring": ((0.083, 0.0, -0.017), (1.0, 0.0, 0.0), (0.042, 0.026, 0.023)),
    "Little": ((0.075, 0.0, -0.033), (1.0, 0.0, 0.0), (0.032, 0.020, 0.020)),
}


def _finger_bones() -> tuple[list[Bone], list[np.ndarray]]:
    bones, directions = [], []
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        flip = np.array([sx, 1.0, 1.0])
        for finger in FINGER_NAMES:
            base, direction, lengths = _FINGER_REST[finger]
            d = np.array(direction) * flip
            parent = f"{side}Hand"
            offset = np.array(base) * flip
            for k, phalanx in enumerate(PHALANGES):
                name = f"{side}{finger}{phalanx}"
                end = tuple(float(v) for v in d * lengths[k]) if k == 2 else None
                bones.append(Bone(name, parent, tuple(float(v) for v in offset), end=end))
                directions.append(d)
                parent, offset = name, d * lengths[k]
    return bones, directions


_finger_table = _finger_bones()
#: The 30 finger bones, parents before children: left hand then right, each Thumb, Index,
#: Middle, Ring, Little, each Proximal, Intermediate, Distal. Parents are ``LeftHand`` /
#: ``RightHand`` (in :data:`BONES`) or the previous phalanx.
FINGER_BONES: tuple[Bone, ...] = tuple(_finger_table[0])
FINGER_BONE_NAMES: tuple[str, ...] = tuple(b.name for b in FINGER_BONES)
FINGER_BONE_INDEX: dict[str, int] = {n: i for i, n in enumerate(FINGER_BONE_NAMES)}
NUM_FINGER_BONES = len(FINGER_BONES)
#: ``(30, 3)`` rest offsets (metres, rig frame) of each finger joint from its parent's joint.
FINGER_REST_OFFSETS: np.ndarray = np.array([b.offset for b in FINGER_BONES], dtype=np.float64)
#: ``(30, 3)`` unit rest direction of each finger bone (its joint towards its child's joint or
#: its end), rig frame; the identity local rotation points the bone this way.
FINGER_REST_DIRECTIONS: np.ndarray = np.array(_finger_table[1], dtype=np.float64)


def finger_bone_index(side: int, finger: int, phalanx: int) -> int:
    """Index into :data:`FINGER_BONES` of ``side`` (0 subject's left, 1 right), ``finger``
    (0 thumb .. 4 little, :class:`arpose.landmarks.Finger`) and ``phalanx`` (0 proximal, 1
    intermediate, 2 distal)."""
    return int(side) * 15 + int(finger) * 3 + int(phalanx)


#: The eye bones (Unity ``LeftEye`` / ``RightEye``), children of ``Head``: eyeball centres,
#: looking along +Z (forward) at rest.
EYE_BONES: tuple[Bone, ...] = (
    Bone("LeftEye", "Head", (0.032, 0.035, 0.07), end=(0.0, 0.0, 0.015)),
    Bone("RightEye", "Head", (-0.032, 0.035, 0.07), end=(0.0, 0.0, 0.015)),
)
EYE_BONE_NAMES: tuple[str, ...] = tuple(b.name for b in EYE_BONES)
