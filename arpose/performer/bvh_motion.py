"""Motion-capture takes (BVH) as performer motions: a BVH skeleton mapped onto ours.

Joint names
-----------
:data:`JOINT_MAPS` maps each of our bones to a joint of the three CMU rigs found in the wild:
the cgspeed *MotionBuilder-friendly* rig (``LeftUpLeg``, ``LeftArm`` ...), the cgspeed
*3dsMax-friendly* rig (``LeftHip``, ``LeftShoulder`` = upper arm, ``LeftCollar`` ...) and
Reallusion's Character Creator rig (``CC_Base_L_Thigh`` ...). The scheme is recognised from
the names present (:func:`detect_scheme`).

Retargeting (rotation deltas with a rest alignment)
---------------------------------------------------
With ``G_j(f)`` the BVH joint's global rotation at frame ``f`` and ``G_j(ref)`` at the rig's
reference pose (its zero-rotation rest, or for the CC rig its prepended T-pose frame 0):

    our_global_b(f) = C G_j(f) G_j(ref)^-1 C^-1 A_b

``C`` turns the file's axes into our rig axes (from the reference pose: hip line = +X, hips to
head = +Y, forward = +Z); ``A_b`` is the smallest rotation taking our rest bone direction (the
child joint's offset) to the BVH segment direction in the reference pose. So every one of our
segments points exactly along its BVH segment in every frame, and twist follows the BVH
joint. Local rotations are ``G_parent^-1 G_b``. Lengths are ours (the mannequin's body), the
root's travel is scaled by the ratio of leg lengths (file units to metres).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import InputError
from ..record.bvh import BvhData, bvh_fk, end_site_positions, read_bvh
from ..skeleton import BONE_INDEX, BONE_NAMES, END_OFFSETS, NUM_BONES, PARENTS, REST_OFFSETS
from .motions import MotionSample


def _sided(table: dict[str, str], left: str, right: str) -> dict[str, str]:
    out = {}
    for ours, theirs in table.items():
        if "{s}" in ours:
            out[ours.format(s="Left")] = theirs.format(s=left)
            out[ours.format(s="Right")] = theirs.format(s=right)
        else:
            out[ours] = theirs
    return out


#: Our bone -> BVH joint, per naming scheme.
JOINT_MAPS: dict[str, dict[str, str]] = {
    "cmu_motionbuilder": {
        "Hips": "Hips",
        "Spine": "LowerBack",
        "Chest": "Spine",
        "UpperChest": "Spine1",
        "Neck": "Neck",
        "Head": "Head",
        **_sided(
            {
                "{s}Shoulder": "{s}Shoulder",
                "{s}UpperArm": "{s}Arm",
                "{s}LowerArm": "{s}ForeArm",
                "{s}Hand": "{s}Hand",
                "{s}UpperLeg": "{s}UpLeg",
                "{s}LowerLeg": "{s}Leg",
                "{s}Foot": "{s}Foot",
                "{s}Toes": "{s}ToeBase",
            },
            "Left",
            "Right",
        ),
    },
    "cmu_3dsmax": {
        "Hips": "Hips",
        "Spine": "lowerback",
        "Chest": "Chest",
        "UpperChest": "Chest2",
        "Neck": "lowerneck",
        "Head": "Head",
        **_sided(
            {
                "{s}Shoulder": "{s}Collar",
                "{s}UpperArm": "{s}Shoulder",
                "{s}LowerArm": "{s}Elbow",
                "{s}Hand": "{s}Wrist",
                "{s}UpperLeg": "{s}Hip",
                "{s}LowerLeg": "{s}Knee",
                "{s}Foot": "{s}Ankle",
                "{s}Toes": "{s}Toe",
            },
            "Left",
            "Right",
        ),
    },
    "cc_base": {
        "Hips": "CC_Base_Hip",
        "Spine": "CC_Base_Waist",
        "Chest": "CC_Base_Spine01",
        "UpperChest": "CC_Base_Spine02",
        "Neck": "CC_Base_NeckTwist01",
        "Head": "CC_Base_Head",
        **_sided(
            {
                "{s}Shoulder": "CC_Base_{s}_Clavicle",
                "{s}UpperArm": "CC_Base_{s}_Upperarm",
                "{s}LowerArm": "CC_Base_{s}_Forearm",
                "{s}Hand": "CC_Base_{s}_Hand",
                "{s}UpperLeg": "CC_Base_{s}_Thigh",
                "{s}LowerLeg": "CC_Base_{s}_Calf",
                "{s}Foot": "CC_Base_{s}_Foot",
                "{s}Toes": "CC_Base_{s}_ToeBase",
            },
            "L",
            "R",
        ),
    },
}

#: Which pose the scheme's segment directions are measured in: the zero-rotation rest, or the
#: first frame (the CC conversions prepend a T-pose frame; their zero rest is not a body pose).
REFERENCE_POSE = {"cmu_motionbuilder": "rest", "cmu_3dsmax": "rest", "cc_base": "first"}

# The bone whose segment defines our bone's direction (leaves: their end site).
_CHAIN_CHILD = {
    "Spine": "Chest",
    "Chest": "UpperChest",
    "UpperChest": "Neck",
    "Neck": "Head",
    **_sided(
        {
            "{s}Shoulder": "{s}UpperArm",
            "{s}UpperArm": "{s}LowerArm",
            "{s}LowerArm": "{s}Hand",
            "{s}UpperLeg": "{s}LowerLeg",
            "{s}LowerLeg": "{s}Foot",
            "{s}Foot": "{s}Toes",
        },
        "Left",
        "Right",
    ),
}


def detect_scheme(names: tuple[str, ...] | list[str]) -> str:
    """The naming scheme whose every mapped joint is in ``names``.

    Raises :class:`InputError` naming the missing joints of the closest scheme otherwise.
    """
    have = set(names)
    best, missing_best = None, None
    for scheme, table in JOINT_MAPS.items():
        missing = [j for j in table.values() if j not in have]
        if not missing:
            return scheme
        if missing_best is None or len(missing) < len(missing_best):
            best, missing_best = scheme, missing
    raise InputError(
        f"BVH joint names match no known rig (closest: {best}, missing {', '.join(missing_best[:6])}); "
        f"supported: CMU MotionBuilder (LeftUpLeg ...), CMU 3dsMax (LeftHip ...), CC_Base"
    )


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _tip(data: BvhData, joint: int, positions: np.ndarray, ends: dict[int, np.ndarray]) -> np.ndarray:
    """``(F, 3)`` the first point below ``joint`` that is away from it: a descendant joint in
    breadth-first order (twist and share helper bones skipped), else an End Site."""
    base = positions[:, joint]
    stack = [joint]
    desc = []
    while stack:
        j = stack.pop(0)
        kids = [k for k, jj in enumerate(data.joints) if jj.parent == j]
        desc += kids
        stack += kids
    for k in desc:
        if (
            np.linalg.norm(positions[0, k] - base[0]) > 1e-6
            and "Twist" not in data.joints[k].name
            and "Share" not in data.joints[k].name
        ):
            return positions[:, k]
    for k in [joint] + desc:
        if k in ends and np.linalg.norm(ends[k][0] - base[0]) > 1e-6:
            return ends[k]
    raise InputError(f"BVH joint {data.joints[joint].name} has no child or end site to give it a direction")


@dataclass
class BvhMotion:
    """A BVH take mapped onto our skeleton (see the module doc).

    root_motion: ``"in_place"`` (default) keeps the take's vertical motion and turns but not
    its travel, so the subject stays in view; ``"full"`` also keeps the horizontal travel,
    relative to the first frame. face_camera: turn the whole take about the vertical so that
    the first frame faces +Z (the camera once placed).
    """

    name: str
    data: BvhData
    root_motion: str = "in_place"
    face_camera: bool = True

    def __post_init__(self) -> None:
        if self.root_motion not in ("in_place", "full"):
            raise InputError(f"root_motion must be 'in_place' or 'full', got {self.root_motion!r}")
        self.scheme = detect_scheme(self.data.names)
        self.fps = float(self.data.fps)
        self.duration = self.data.num_frames * self.data.frame_time
        self._local, self._root = self._retarget()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kw) -> "BvhMotion":
        """Read a BVH file (:func:`arpose.record.bvh.read_bvh`) and map it."""
        data = read_bvh(path)
        name = os.path.splitext(os.path.basename(str(path)))[0]
        return cls(name, data, **kw)

    # -- mapping -----------------------------------------------------------------------
    def _retarget(self) -> tuple[np.ndarray, np.ndarray]:
        data = self.data
        table = JOINT_MAPS[self.scheme]
        jidx = {ours: data.index(theirs) for ours, theirs in table.items()}
        pos, rot = bvh_fk(data)  # (F, J, 3), (F, J, 4)
        if REFERENCE_POSE[self.scheme] == "rest":
            zero = dataclasses.replace(data, motion=np.zeros((1, data.motion.shape[1])))
            rpos, rrot = bvh_fk(zero)
        else:
            rpos, rrot = pos[:1], rot[:1]
        rends = end_site_positions(data, rpos, rrot)
        ref_p = {b: rpos[0, j] for b, j in jidx.items()}
        # C: file axes -> rig axes, from the reference pose.
        left = ref_p["LeftUpperLeg"] - ref_p["RightUpperLeg"]
        up = ref_p["Head"] - ref_p["Hips"]
        up = _unit(up)
        left = _unit(left - up * (left @ up))
        fwd = np.cross(left, up)
        c = Rotation.from_matrix(np.stack([left, up, fwd]))  # rows: file vectors -> rig axes
        ref_dir = {b: c.apply(self._segment_tip(b, ref_p, rpos, rends) - ref_p[b]) for b in _CHAIN_CHILD}
        # Leaves: end sites and finger/face/toe joints differ between rigs, so assume the
        # reference pose holds the head upright, the hands in line with the forearms and the
        # toes level and forward, as a T-pose does.
        for s in ("Left", "Right"):
            ref_dir[f"{s}Hand"] = ref_dir[f"{s}LowerArm"]
            ref_dir[f"{s}Toes"] = END_OFFSETS[BONE_INDEX[f"{s}Toes"]]
        ref_dir["Head"] = END_OFFSETS[BONE_INDEX["Head"]]
        n = data.num_frames
        glob = np.empty((n, NUM_BONES, 4))
        for b in BONE_NAMES:
            i = BONE_INDEX[b]
            j = jidx[b]
            delta = c * Rotation.from_quat(rot[:, j]) * Rotation.from_quat(rrot[0, j]).inv() * c.inv()
            if b == "Hips":
                glob[:, i] = delta.as_quat()
                continue
            ours = REST_OFFSETS[BONE_INDEX[_CHAIN_CHILD[b]]] if b in _CHAIN_CHILD else END_OFFSETS[i]
            align, _ = Rotation.align_vectors(_unit(ref_dir[b])[None], _unit(ours)[None])
            glob[:, i] = (delta * align).as_quat()
        if self.face_camera:
            f0 = Rotation.from_quat(glob[0, 0]).apply([0.0, 0.0, 1.0])
            yaw = Rotation.from_euler("y", -np.arctan2(f0[0], f0[2]))
            glob = (yaw * Rotation.from_quat(glob.reshape(-1, 4))).as_quat().reshape(n, NUM_BONES, 4)
        else:
            yaw = Rotation.identity()
        local = np.empty_like(glob)
        local[:, 0] = glob[:, 0]
        for i in range(1, NUM_BONES):
            local[:, i] = (Rotation.from_quat(glob[:, PARENTS[i]]).inv() * Rotation.from_quat(glob[:, i])).as_quat()
        # Root: metres by the ratio of leg lengths; y becomes the lift above the take's lowest foot.
        leg_file = sum(
            np.linalg.norm(ref_p[a] - ref_p[b])
            for a, b in (("LeftUpperLeg", "LeftLowerLeg"), ("LeftLowerLeg", "LeftFoot"))
        )
        leg_ours = -(REST_OFFSETS[BONE_INDEX["LeftLowerLeg"], 1] + REST_OFFSETS[BONE_INDEX["LeftFoot"], 1])
        self.metres_per_unit = leg_ours / leg_file
        hips = yaw.apply(c.apply(pos[:, jidx["Hips"]])) * self.metres_per_unit
        feet = [jidx[f"{s}{b}"] for s in ("Left", "Right") for b in ("Foot", "Toes")]
        low = np.min(np.stack([yaw.apply(c.apply(pos[:, j]))[:, 1] for j in feet], axis=1), axis=1)
        low = low * self.metres_per_unit
        root = np.zeros((n, 3))
        root[:, 1] = low - low.min()
        if self.root_motion == "full":
            root[:, [0, 2]] = hips[:, [0, 2]] - hips[0, [0, 2]]
        self.bvh_positions = pos  # file units and axes, for checks
        self.file_to_rig = yaw * c
        self.joint_map = jidx
        return local, root

    def _segment_tip(self, bone: str, ref_p: dict, rpos: np.ndarray, rends: dict) -> np.ndarray:
        """The point our ``bone``'s BVH segment points at in the reference pose: its chain
        child's joint, skipping children that sit on the joint (MotionBuilder's Spine1/Neck),
        else the first descendant or End Site away from it."""
        j = self.data.index(JOINT_MAPS[self.scheme][bone])
        child = _CHAIN_CHILD.get(bone)
        while child is not None:
            if np.linalg.norm(ref_p[child] - ref_p[bone]) > 1e-6:
                return ref_p[child]
            child = _CHAIN_CHILD.get(child)
        return _tip(self.data, j, rpos, rends)[0]

    # -- sampling ----------------------------------------------------------------------
    def sample(self, times: np.ndarray) -> MotionSample:
        """Poses at ``times`` ``(F,)`` seconds, interpolated between the take's frames
        (normalised linear quaternion blend, linear root); held at the last frame after the end."""
        t = np.asarray(times, dtype=np.float64).reshape(-1)
        n = self.data.num_frames
        u = np.clip(t / self.data.frame_time, 0.0, n - 1)
        i0 = np.floor(u).astype(int)
        i1 = np.minimum(i0 + 1, n - 1)
        w = (u - i0)[:, None, None]
        q0, q1 = self._local[i0], self._local[i1]
        sign = np.where((q0 * q1).sum(axis=-1, keepdims=True) < 0, -1.0, 1.0)
        q = (1 - w) * q0 + w * sign * q1
        q /= np.linalg.norm(q, axis=-1, keepdims=True)
        root = (1 - w[:, :, 0]) * self._root[i0] + w[:, :, 0] * self._root[i1]
        return MotionSample(local_rotations=q, root_position=root)

    def frame_times(self) -> np.ndarray:
        """``(F,)`` seconds of the take's own frames."""
        return np.arange(self.data.num_frames) * self.data.frame_time
