"""The receiving avatar's rest skeleton, read from its file, and arpose's pose expressed on it.

A VMC receiver (EVMC4U, the Virtual Motion Capture app, VMC4B ...) sets each humanoid bone's
*local* transform to what it receives. To keep the avatar's proportions the sender must send
that avatar's own local positions, and local rotations that put each bone where arpose's
skeleton has it *relative to the avatar's own rest pose*. :func:`read_avatar` reads what that
needs from a ``.vrm`` / ``.glb`` / ``.gltf`` file (pygltflib); :func:`pose_avatar` is the pure
per-frame computation; :func:`standard_avatar` is arpose's own skeleton as such an avatar (the
default stream).

Frames and conventions
----------------------
* *rig*: arpose's skeleton frame (:mod:`arpose.skeleton`): right-handed, +Y up, +Z the subject's
  forward, +X the subject's left; identity rotations = the T-pose. Quaternions ``(x, y, z, w)``.
* *file*: the glTF scene's frame (right-handed, +Y up, metres). VRM 1.0 and plain glTF avatars
  face +Z there (:data:`FILE_FACING` ``+z``); VRM 0.x avatars face -Z (UniVRM 0.x exported
  them that way).
* *Unity*: what is sent. Left-handed, +Y up, the avatar faces +Z. A VRM 0.x file is brought
  into Unity by negating Z (UniVRM 0.x), a VRM 1.0 or glTF file by negating X (UniVRM 1.0,
  glTFast); :func:`to_unity_position` / :func:`to_unity_quaternion` do the same.

Bone forms (``convention``)
---------------------------
* ``"vrm0"``, *normalised* bones, as VRM 0.x files store them and as VRM 0.x receivers (EVMC4U
  with a VRM 0.x avatar, VMC4B, VSeeFace) hold them: every humanoid bone's rest rotation is the
  identity and its rest local position is the offset from its humanoid parent in file axes.
  Rotations sent are then rotations relative to the avatar's rest pose, in world axes.
* ``"vrm1"``, the file's *original* bones, which the VMC specification recommends for VRM 1.0
  (``Vrm10Instance.Humanoid``, no control rig): local positions are the nodes' own rest
  translations (in their parent node's units) and local rotations include the nodes' rest
  rotations; nodes between humanoid bones keep their rest transforms.

Rest pose and retargeting
-------------------------
The rest pose is the file's bind pose where a skin gives one (``inverseBindMatrices``, which is
where the mesh was modelled), else the nodes' transforms. The avatar's facing ``R`` (rig axes to
its rest axes in the file) comes from its geometry (left = left hip - right hip, up = hips to
head), snapped to the nearest axis-aligned rotation. Upper and lower arms and legs are swung
(minimal rotation) from their rest direction onto the T-pose direction (so an A-pose avatar
stands in a T-pose when the person does; hands, feet and toes turn with them); the torso keeps
its rest. With ``W`` the rotation from rig axes to the file's facing (identity for +Z, 180
degrees about Y for -Z), each humanoid bone's global rotation in the file frame is
``G = W * Q * K`` with ``Q`` its global rotation on arpose's skeleton and ``K = R^-1 * S * G_rest``
fixed per bone; the local rotation sent is ``G_parent^-1 * G``.

Finger and eye bones (*detail* bones, :data:`DETAIL_BONES`) are read from a VRM file's humanoid
table (VRM 1.0's thumb ``Metacarpal`` / ``Proximal`` / ``Distal`` are Unity's thumb ``Proximal`` /
``Intermediate`` / ``Distal``); plain glTF files get none. They keep their rest relative to the
body bone they ride on (the Hand or the Head: its swing ``S``, none of their own), so
``K = R^-1 * S_anchor * G_rest`` and the local rotation sent for arpose's local rotation ``q`` is
``(K_parent * M)^-1 * q * K`` (``M`` the rest rotations of nodes between bone and parent): it
depends on the body only through the parent (:func:`pose_details`).
"""

from __future__ import annotations

import functools
import math
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError
from ..skeleton import (
    BONE_INDEX,
    BONE_NAMES,
    EYE_BONES,
    FINGER_BONES,
    NUM_BONES,
    PARENTS,
    REST_OFFSETS,
    RIG_BONE_NAMES,
    rig_node_key,
)

#: Bone forms a stream can take (module doc): ``"vrm0"`` normalised, ``"vrm1"`` original.
CONVENTIONS = ("vrm0", "vrm1")
#: File suffixes :func:`read_avatar` accepts.
AVATAR_SUFFIXES = (".vrm", ".glb", ".gltf")
#: Which way an avatar of each file kind faces in its file.
FILE_FACING = {"vrm0": "-z", "vrm1": "+z", "gltf": "+z", "standard": "+z"}
#: Bones whose rest direction is swung onto the T-pose's (their child joint's direction).
ALIGNED_BONES = tuple(f"{s}{b}" for s in ("Left", "Right") for b in ("UpperArm", "LowerArm", "UpperLeg", "LowerLeg"))
#: Bones whose absence makes an avatar unusable: the leg lengths set the motion's scale.
REQUIRED_BONES = ("Hips", "LeftUpperLeg", "LeftLowerLeg", "RightUpperLeg", "RightLowerLeg")
_IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])
#: Detail bones: the 30 finger bones and the two eye bones (:data:`~arpose.skeleton.FINGER_BONES`,
#: :data:`~arpose.skeleton.EYE_BONES`), parents first. Their local rotations come from
#: ``Person.fingers`` / ``Person.face_pose``, not the body, and they are sent only when known.
DETAIL_BONES = FINGER_BONES + EYE_BONES
DETAIL_NAMES: tuple[str, ...] = tuple(b.name for b in DETAIL_BONES)
_DETAIL_PARENT = {b.name: b.parent for b in DETAIL_BONES}
#: The body bone each detail bone rides on (the Hand of its side, or the Head).
DETAIL_ANCHOR = {
    b.name: "Head" if b.parent == "Head" else ("Left" if b.name.startswith("Left") else "Right") + "Hand"
    for b in DETAIL_BONES
}
#: VRM 1.0 humanoid names of the detail bones that differ from the Unity names: VRM 1.0 calls
#: the thumb's three bones metacarpal, proximal, distal (Unity: proximal, intermediate, distal).
VRM1_DETAIL_NAMES = {
    f"{s}Thumb{u}": f"{s.lower()}Thumb{v}"
    for s in ("Left", "Right")
    for u, v in (("Proximal", "Metacarpal"), ("Intermediate", "Proximal"), ("Distal", "Distal"))
}


# ---------------------------------------------------------------------------------------------
# quaternion helpers, (..., 4) arrays in (x, y, z, w) order


def qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` of ``(..., 4)`` quaternions ``(x, y, z, w)`` (``b`` applied first)."""
    ax, ay, az, aw = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bx, by, bz, bw = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def qconj(q: np.ndarray) -> np.ndarray:
    """Conjugate (the inverse of a unit quaternion), ``(..., 4)`` ``(x, y, z, w)``."""
    r = np.array(q, dtype=np.float64, copy=True)
    r[..., :3] *= -1.0
    return r


def _qmat(q: np.ndarray) -> np.ndarray:
    """``(4,)`` unit quaternion ``(x, y, z, w)`` to a ``(3, 3)`` rotation matrix."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_quat(q).as_matrix()


def _mat_q(m: np.ndarray) -> np.ndarray:
    """Rotation part of a ``(3, 3)`` matrix (scale removed by polar decomposition) as ``(x, y, z, w)``."""
    from scipy.spatial.transform import Rotation

    u, _, vt = np.linalg.svd(np.asarray(m, dtype=np.float64))
    r = u @ vt
    if np.linalg.det(r) < 0:  # a mirrored node: keep the rotation closest to it
        u[:, -1] *= -1.0
        r = u @ vt
    return Rotation.from_matrix(r).as_quat()


def _swing(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The minimal rotation ``(x, y, z, w)`` taking direction ``u`` onto ``v`` (``(3,)`` each)."""
    u = u / np.linalg.norm(u)
    v = v / np.linalg.norm(v)
    c = float(np.dot(u, v))
    if c < -1.0 + 1e-9:  # opposite: any axis perpendicular to u
        axis = np.cross(u, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(u, [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return np.array([*axis, 0.0])
    q = np.array([*np.cross(u, v), 1.0 + c])
    return q / np.linalg.norm(q)


def to_unity_position(p: np.ndarray, facing: str) -> np.ndarray:
    """File-frame positions ``(..., 3)`` to Unity's: negate Z for a -Z facing (VRM 0.x) file,
    X otherwise (``facing`` from :data:`FILE_FACING`)."""
    q = np.array(p, dtype=np.float64, copy=True)
    q[..., 2 if facing == "-z" else 0] *= -1.0
    return q


def to_unity_quaternion(q: np.ndarray, facing: str) -> np.ndarray:
    """File-frame quaternions ``(..., 4)`` ``(x, y, z, w)`` to Unity's (the same axis mirrored as
    :func:`to_unity_position`): ``(-x, -y, z, w)`` for -Z, ``(x, -y, -z, w)`` for +Z."""
    r = np.array(q, dtype=np.float64, copy=True)
    if facing == "-z":
        r[..., 0] *= -1.0
        r[..., 1] *= -1.0
    else:
        r[..., 1] *= -1.0
        r[..., 2] *= -1.0
    return r


def facing_rotation(facing: str) -> np.ndarray:
    """``W``: rig axes to the file's facing, ``(x, y, z, w)``: identity for +Z, 180 degrees about Y for -Z."""
    return np.array([0.0, 1.0, 0.0, 0.0]) if facing == "-z" else _IDENTITY.copy()


# ---------------------------------------------------------------------------------------------
# the rig


@dataclass(frozen=True, eq=False)
class AvatarRig:
    """An avatar's skeleton as a VMC receiver holds it, plus what retargeting onto it needs.

    ``nodes`` are the transforms that move: the humanoid bones arpose drives and the nodes
    between them, parents first, the Hips first. All arrays are in the *file* frame (module doc).

    source: the file name (``"standard"`` for :func:`standard_avatar`). kind: ``"vrm0"``,
        ``"vrm1"``, ``"gltf"`` or ``"standard"``. convention: the bone form sent (:data:`CONVENTIONS`).
    node_names: ``(N,)`` node names; bones: ``(N,)`` the arpose bone each node is, or None.
    parents: ``(N,)`` index of each node's parent in ``node_names``, -1 for the Hips.
    translations: ``(N, 3)`` rest local translations in the parent's units; rotations: ``(N, 4)``
        rest local rotations ``(x, y, z, w)``; scales: ``(N, 3)``. These are what the receiver
        holds before anything is sent (the file's node transforms, or the normalised ones).
    base: ``(4, 4)`` the world transform of the Hips' parent (static: never sent).
    targets: ``(N, 4)`` ``K`` per humanoid node (module doc), identity for the others.
    ends: ``(N, 3)`` each node's end point in its own frame (the mean of its child nodes that are
        not meshes at rest), NaN when it has none; stands in for a missing hand or foot tracker.
    hip_centre: ``(3,)`` the rest hip centre (midway between the upper-leg joints) in rig axes
        about the file origin (x the avatar's left, y height above the floor, z forward), metres.
    hip_offset: ``(3,)`` the Hips joint relative to the hip centre at rest, rig axes, metres.
    leg_length: mean hip-to-ankle length (upper plus lower leg) at rest, metres.
    identity_rest: every rest rotation and ``K`` is the identity and the nodes are arpose's own
        bones: local rotations are sent as arpose computed them (the standard skeleton).
    detail_names: the detail bones (:data:`DETAIL_NAMES`: fingers, eyes) the avatar has, parents
        first; each hangs below its arpose parent bone, which it also has.
    detail_positions: ``(n, 3)`` their rest local positions in Unity axes, metres of the avatar
        (what their ``/VMC/Ext/Bone/Pos`` carries). detail_pre, detail_post: ``(n, 4)``
        ``(x, y, z, w)`` file-frame rotations with ``local = pre * q * post`` for arpose's local
        rotation ``q`` of the bone (:func:`pose_details`): ``post`` is the bone's ``K``,
        ``pre`` the inverse of its parent's ``K`` times the rest rotations of any nodes between.
    """

    source: str
    kind: str
    convention: str
    node_names: tuple[str, ...]
    bones: tuple[str | None, ...]
    parents: np.ndarray
    translations: np.ndarray
    rotations: np.ndarray
    scales: np.ndarray
    base: np.ndarray
    targets: np.ndarray
    ends: np.ndarray
    hip_centre: np.ndarray
    hip_offset: np.ndarray
    leg_length: float
    identity_rest: bool = False
    detail_names: tuple[str, ...] = ()
    detail_positions: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    detail_pre: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    detail_post: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))

    @functools.cached_property
    def base_rotation(self) -> tuple[float, float, float, float]:
        """The rotation part of ``base`` ``(x, y, z, w)``."""
        return tuple(_mat_q(self.base[:3, :3]).tolist())

    @functools.cached_property
    def base_inverse(self) -> np.ndarray:
        """``(4, 4)`` inverse of ``base``."""
        return np.linalg.inv(self.base)

    @functools.cached_property
    def sent_nodes(self) -> tuple[int, ...]:
        """Indices of the humanoid nodes in :attr:`bone_names` order (the order they are sent)."""
        return tuple(sorted((k for k, b in enumerate(self.bones) if b), key=lambda k: BONE_INDEX[self.bones[k]]))

    @property
    def facing(self) -> str:
        """``"+z"`` or ``"-z"``: which way the avatar faces in its file."""
        return FILE_FACING[self.kind]

    @property
    def bone_names(self) -> tuple[str, ...]:
        """The arpose bones this avatar has, in :data:`~arpose.skeleton.BONE_NAMES` order (parents first)."""
        have = {b for b in self.bones if b is not None}
        return tuple(b for b in BONE_NAMES if b in have)

    @property
    def hip_height(self) -> float:
        """Rest height of the hip centre above the floor, metres."""
        return float(self.hip_centre[1])

    def node_of(self, bone: str) -> int:
        """Index in ``node_names`` of arpose bone ``bone`` (-1 if the avatar lacks it)."""
        try:
            return self.bones.index(bone)
        except ValueError:
            return -1

    def rest_translations(self) -> dict[str, np.ndarray]:
        """``{bone: (3,)}`` the rest local position of each humanoid bone in Unity axes: what
        every ``/VMC/Ext/Bone/Pos`` carries for it (the Hips' carries the motion instead)."""
        return {b: to_unity_position(self.translations[i], self.facing) for i, b in enumerate(self.bones) if b}


def _leg_length(pos: dict[str, np.ndarray]) -> float:
    lengths = []
    for s in ("Left", "Right"):
        thigh = np.linalg.norm(pos[f"{s}LowerLeg"] - pos[f"{s}UpperLeg"])
        shin_end = pos.get(f"{s}Foot")
        if shin_end is None:
            shin_end = pos.get(f"{s}LowerLeg.end")
        shin = np.linalg.norm(shin_end - pos[f"{s}LowerLeg"]) if shin_end is not None else thigh
        lengths.append(thigh + shin)
    return float(np.mean(lengths))


def _snap_rotation(m: np.ndarray) -> np.ndarray:
    """The axis-aligned proper rotation matrix (a signed permutation, det +1) nearest ``m``."""
    import itertools

    best, score = np.eye(3), -np.inf
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            p = np.zeros((3, 3))
            for row, (col, s) in enumerate(zip(perm, signs)):
                p[row, col] = s
            if np.linalg.det(p) < 0:
                continue
            sc = float(np.sum(p * m))
            if sc > score:
                best, score = p, sc
    return best


def _facing_from_rest(pos: dict[str, np.ndarray]) -> np.ndarray:
    """``R`` as a ``(3, 3)`` matrix: rig axes to the avatar's rest axes in the file frame."""
    left = pos["LeftUpperLeg"] - pos["RightUpperLeg"]
    for s in ("UpperArm", "Shoulder"):
        if f"Left{s}" in pos and f"Right{s}" in pos:
            left = left + (pos[f"Left{s}"] - pos[f"Right{s}"])
            break
    top = next((pos[b] for b in ("Head", "Neck", "UpperChest", "Chest", "Spine") if b in pos), None)
    centre = 0.5 * (pos["LeftUpperLeg"] + pos["RightUpperLeg"])
    up = top - centre if top is not None else np.array([0.0, 1.0, 0.0])
    x = left / np.linalg.norm(left)
    z = np.cross(x, up)
    if np.linalg.norm(z) < 1e-9:
        raise InputError("the avatar's left-right axis is parallel to its spine; cannot tell which way it faces")
    z /= np.linalg.norm(z)
    y = np.cross(z, x)
    return _snap_rotation(np.stack([x, y, z], axis=1))


def _build_rig(
    source: str,
    kind: str,
    convention: str,
    node_names: list[str],
    node_parent: list[int],
    local_trs: list[np.ndarray],
    rest_local: list[np.ndarray],
    has_mesh: list[bool],
    humanoid: dict[str, int],
    details: dict[str, int] | None = None,
) -> AvatarRig:
    """The rig from a node tree.

    node_parent: parent index per node (-1 for roots). local_trs: ``(4, 4)`` local matrices the
    receiver holds (node TRS); rest_local: ``(4, 4)`` local matrices of the rest (bind) pose.
    humanoid: ``{arpose bone: node index}``, already checked to follow arpose's hierarchy.
    details: ``{detail bone: node index}`` (:data:`DETAIL_NAMES`); a detail bone is kept only
    when its arpose parent bone is kept and its node descends from that bone's node.
    """
    n_all = len(node_names)
    world_rest: list[np.ndarray | None] = [None] * n_all
    world_trs: list[np.ndarray | None] = [None] * n_all

    def rest_world(i: int) -> np.ndarray:
        if world_rest[i] is None:
            p = node_parent[i]
            world_rest[i] = rest_local[i] if p < 0 else rest_world(p) @ rest_local[i]
        return world_rest[i]

    def trs_world(i: int) -> np.ndarray:
        if world_trs[i] is None:
            p = node_parent[i]
            world_trs[i] = local_trs[i] if p < 0 else trs_world(p) @ local_trs[i]
        return world_trs[i]

    pos = {b: rest_world(i)[:3, 3] for b, i in humanoid.items()}
    node_bone = {i: b for b, i in humanoid.items()}
    children: dict[int, list[int]] = {}
    for i, p in enumerate(node_parent):
        children.setdefault(p, []).append(i)

    def end_of(i: int) -> np.ndarray | None:
        """Mean rest position (file world) of node i's non-mesh, non-humanoid children."""
        pts = [rest_world(c)[:3, 3] for c in children.get(i, []) if not has_mesh[c] and c not in node_bone]
        return np.mean(pts, axis=0) if pts else None

    for s in ("Left", "Right"):
        if f"{s}Foot" not in humanoid:
            e = end_of(humanoid[f"{s}LowerLeg"])
            if e is not None:
                pos[f"{s}LowerLeg.end"] = e
        if f"{s}Hand" not in humanoid and f"{s}LowerArm" in humanoid:
            e = end_of(humanoid[f"{s}LowerArm"])
            if e is not None:
                pos[f"{s}LowerArm.end"] = e

    rmat = _facing_from_rest(pos)
    rq = _mat_q(rmat)
    centre = 0.5 * (pos["LeftUpperLeg"] + pos["RightUpperLeg"])
    hip_centre = rmat.T @ centre
    hip_offset = rmat.T @ (pos["Hips"] - centre)
    leg = _leg_length(pos)
    if not (math.isfinite(leg) and leg > 1e-6):
        raise InputError("the avatar's legs have no length")

    # S per bone, parents first: a swing onto the T-pose direction for the limb bones, else inherited.
    swing: dict[str, np.ndarray] = {}
    for b in BONE_NAMES:
        p = PARENTS[BONE_INDEX[b]]
        inherited = swing[BONE_NAMES[p]] if p >= 0 else _IDENTITY.copy()
        s = inherited
        if b in humanoid and b in ALIGNED_BONES:
            child = BONE_NAMES[next(j for j in range(NUM_BONES) if PARENTS[j] == BONE_INDEX[b])]
            target = pos.get(child, pos.get(f"{b}.end"))
            if target is not None:
                u = _qmat(inherited) @ (target - pos[b])
                e = rmat @ REST_OFFSETS[BONE_INDEX[child]]
                if np.linalg.norm(u) > 1e-9:
                    s = qmul(_swing(u, e), inherited)
        swing[b] = s

    # The moving nodes: the Hips and every node on the path from it to a humanoid bone.
    hips = humanoid["Hips"]
    keep = {hips}
    for i in humanoid.values():
        j = i
        while j != hips and j >= 0 and j not in keep:
            keep.add(j)
            j = node_parent[j]
    order: list[int] = []
    stack = [hips]
    while stack:  # depth-first from the Hips: parents before children
        i = stack.pop()
        order.append(i)
        stack.extend(c for c in reversed(children.get(i, [])) if c in keep)
    index = {n: k for k, n in enumerate(order)}

    if convention == "vrm0" and kind != "vrm0":
        # Normalised: the humanoid bones only, identity rest rotations, offsets from the parent bone.
        order = [humanoid[b] for b in BONE_NAMES if b in humanoid]
        index = {n: k for k, n in enumerate(order)}
        parents = []
        for b in BONE_NAMES:
            if b not in humanoid:
                continue
            p = PARENTS[BONE_INDEX[b]]
            while p >= 0 and BONE_NAMES[p] not in humanoid:
                p = PARENTS[p]
            parents.append(index[humanoid[BONE_NAMES[p]]] if p >= 0 else -1)
        trans = np.array(
            [
                pos[node_bone[n]] - (pos[node_bone[order[parents[k]]]] if parents[k] >= 0 else 0.0)
                for k, n in enumerate(order)
            ]
        )
        rots = np.tile(_IDENTITY, (len(order), 1))
        scales = np.ones((len(order), 3))
        base = np.eye(4)
        rest_g = {n: _IDENTITY.copy() for n in order}
        ends = []
        for n in order:
            e = end_of(n)
            ends.append(e - rest_world(n)[:3, 3] if e is not None else np.full(3, np.nan))
        ends = np.array(ends)
    else:
        parents = [index.get(node_parent[n], -1) if n != hips else -1 for n in order]
        trans, rots, scales = [], [], []
        for n in order:
            m = local_trs[n]
            sc = np.linalg.norm(m[:3, :3], axis=0)
            trans.append(m[:3, 3])
            rots.append(_mat_q(m[:3, :3]))
            scales.append(sc)
        trans, rots, scales = np.array(trans), np.array(rots), np.array(scales)
        p = node_parent[hips]
        base = trs_world(p) if p >= 0 else np.eye(4)
        rest_g = {n: _mat_q(rest_world(n)[:3, :3]) for n in order}
        ends = []
        for n in order:
            e = end_of(n)
            if e is None:
                ends.append(np.full(3, np.nan))
            else:  # in the node's own (rest) frame, its units
                ends.append((np.linalg.inv(rest_world(n)) @ np.append(e, 1.0))[:3])
        ends = np.array(ends)

    targets = np.tile(_IDENTITY, (len(order), 1))
    bones: list[str | None] = [node_bone.get(n) for n in order]
    for k, b in enumerate(bones):
        if b is not None:
            targets[k] = qmul(qconj(rq), qmul(swing[b], rest_g[order[k]]))

    # Detail bones keep their rest relative to the body bone they ride on (the Hand's or the
    # Head's swing, no swing of their own): K = R^-1 S_anchor G_rest, local = (K_parent M)^-1 q K.
    normalised = convention == "vrm0" and kind != "vrm0"
    known = {b: targets[k] for k, b in enumerate(bones) if b is not None}
    node_of = dict(humanoid)
    d_names, d_pos, d_pre, d_post = [], [], [], []
    for bone in DETAIL_BONES:
        n = (details or {}).get(bone.name)
        parent = bone.parent
        if n is None or parent not in known:
            continue
        between, j = [], node_parent[n]
        while j >= 0 and j != node_of[parent]:
            between.append(j)
            j = node_parent[j]
        if j < 0:  # not below its parent bone's node
            continue
        m = _IDENTITY.copy()
        if normalised:
            g_rest = _IDENTITY.copy()
            t = rest_world(n)[:3, 3] - rest_world(node_of[parent])[:3, 3]
        else:
            g_rest = _mat_q(rest_world(n)[:3, :3])
            for j in reversed(between):
                m = qmul(m, _mat_q(local_trs[j][:3, :3]))
            t = local_trs[n][:3, 3]
        k_bone = qmul(qconj(rq), qmul(swing[DETAIL_ANCHOR[bone.name]], g_rest))
        d_names.append(bone.name)
        d_pos.append(to_unity_position(t, FILE_FACING[kind]))
        d_pre.append(qconj(qmul(known[parent], m)))
        d_post.append(k_bone)
        known[bone.name], node_of[bone.name] = k_bone, n
    return AvatarRig(
        source=source,
        kind=kind,
        convention=convention,
        node_names=tuple(node_names[n] for n in order),
        bones=tuple(bones),
        parents=np.array(parents, dtype=np.intp),
        translations=np.asarray(trans, dtype=np.float64),
        rotations=np.asarray(rots, dtype=np.float64),
        scales=np.asarray(scales, dtype=np.float64),
        base=np.asarray(base, dtype=np.float64),
        targets=targets,
        ends=ends,
        hip_centre=hip_centre,
        hip_offset=hip_offset,
        leg_length=leg,
        detail_names=tuple(d_names),
        detail_positions=np.array(d_pos, dtype=np.float64).reshape(-1, 3),
        detail_pre=np.array(d_pre, dtype=np.float64).reshape(-1, 4),
        detail_post=np.array(d_post, dtype=np.float64).reshape(-1, 4),
    )


def standard_avatar() -> AvatarRig:
    """arpose's own skeleton (:data:`~arpose.skeleton.REST_OFFSETS`, a 1.72 m T-pose with
    identity rest rotations) as a normalised avatar facing +Z: the default stream."""
    from ..skeleton import END_OFFSETS, LEAF_BONES

    hip_centre = REST_OFFSETS[BONE_INDEX["Hips"]].copy()
    ends = np.where(np.isin(np.array(BONE_NAMES), LEAF_BONES)[:, None], END_OFFSETS, np.nan)
    return AvatarRig(
        source="standard",
        kind="standard",
        convention="vrm0",
        node_names=BONE_NAMES,
        bones=BONE_NAMES,
        parents=PARENTS.copy(),
        translations=REST_OFFSETS.copy(),
        rotations=np.tile(_IDENTITY, (NUM_BONES, 1)),
        scales=np.ones((NUM_BONES, 3)),
        base=np.eye(4),
        targets=np.tile(_IDENTITY, (NUM_BONES, 1)),
        ends=ends,
        hip_centre=hip_centre,
        hip_offset=np.zeros(3),
        leg_length=float(
            np.mean(
                [
                    np.linalg.norm(REST_OFFSETS[BONE_INDEX[f"{s}LowerLeg"]])
                    + np.linalg.norm(REST_OFFSETS[BONE_INDEX[f"{s}Foot"]])
                    for s in ("Left", "Right")
                ]
            )
        ),
        identity_rest=True,
        detail_names=DETAIL_NAMES,
        detail_positions=to_unity_position(np.array([b.offset for b in DETAIL_BONES], dtype=np.float64), "+z"),
        detail_pre=np.tile(_IDENTITY, (len(DETAIL_BONES), 1)),
        detail_post=np.tile(_IDENTITY, (len(DETAIL_BONES), 1)),
    )


# ---------------------------------------------------------------------------------------------
# the pose


@dataclass(frozen=True)
class AvatarPose:
    """One frame of an avatar, Unity frame (left-handed, +Y up, the avatar faces +Z), metres of
    the avatar, quaternions ``(x, y, z, w)``.

    bone_names: the humanoid bones sent, parents first; positions: ``(n, 3)`` their local
    positions; rotations: ``(n, 4)`` their local rotations. tracker_positions /
    tracker_rotations: ``{bone: (3,) / (4,)}`` world transforms relative to the avatar's root
    (None unless asked for); a tracker rotation is the bone's global rotation relative to the
    T-pose facing +Z (identity when the person stands in a T-pose facing the camera).
    """

    bone_names: tuple[str, ...]
    positions: np.ndarray
    rotations: np.ndarray
    tracker_positions: dict[str, np.ndarray] | None = None
    tracker_rotations: dict[str, np.ndarray] | None = None


#: Bones that get a virtual tracker (``/VMC/Ext/Tra/Pos``), and the bone whose end stands in when
#: the avatar lacks one.
TRACKER_BONES = ("Head", "Hips", "LeftHand", "RightHand", "LeftFoot", "RightFoot")
_TRACKER_FALLBACK = {
    "LeftHand": "LeftLowerArm",
    "RightHand": "RightLowerArm",
    "LeftFoot": "LeftLowerLeg",
    "RightFoot": "RightLowerLeg",
}


def _qm(a, b):
    """Hamilton product of two quaternions ``(x, y, z, w)`` as Python floats (the per-frame path:
    about 20 times faster than numpy on single quaternions)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def _qc(a):
    return (-a[0], -a[1], -a[2], a[3])


def _qrot(q, v):
    """Rotate ``(3,)`` vector ``v`` by unit quaternion ``q`` ``(x, y, z, w)``; a tuple."""
    x, y, z, w = q
    vx, vy, vz = v
    tx = 2.0 * (y * vz - z * vy)
    ty = 2.0 * (z * vx - x * vz)
    tz = 2.0 * (x * vy - y * vx)
    return (
        vx + w * tx + y * tz - z * ty,
        vy + w * ty + z * tx - x * tz,
        vz + w * tz + x * ty - y * tx,
    )


def _qmat_fast(q) -> np.ndarray:
    """``(3, 3)`` rotation matrix of a unit quaternion ``(x, y, z, w)`` given as floats."""
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def pose_avatar(
    rig: AvatarRig, local_rotations: np.ndarray, hip_centre: np.ndarray, trackers: bool = False
) -> AvatarPose:
    """arpose's pose on ``rig`` (pure).

    local_rotations: ``(B, 4)`` finite unit local rotations on arpose's skeleton, rig frame,
        ``(x, y, z, w)``, identity = T-pose; the Hips' is the body's orientation.
    hip_centre: ``(3,)`` where the hip centre goes, rig axes relative to the avatar's root
        (x the subject's left, y height above the floor, z forward), metres of the avatar.
    trackers: also compute the world transforms of :data:`TRACKER_BONES`.
    """
    q = [tuple(r) for r in np.asarray(local_rotations, dtype=np.float64).tolist()]
    facing = rig.facing
    w = tuple(facing_rotation(facing).tolist())
    n = len(rig.node_names)
    bones = rig.bones
    glob: list = [None] * NUM_BONES  # global rotations on arpose's skeleton
    for i in range(NUM_BONES):
        p = PARENTS[i]
        glob[i] = q[i] if p < 0 else _qm(glob[p], q[i])
    # The Hips joint: the hip centre plus the rotated rest offset from it, file frame, then the
    # Hips' parent's frame.
    hips_rig = np.asarray(hip_centre, dtype=np.float64) + _qrot(glob[0], rig.hip_offset)
    hips_world = _qrot(w, hips_rig)
    hips_local = rig.base_inverse[:3, :3] @ hips_world + rig.base_inverse[:3, 3]

    local: list = [None] * n
    if rig.identity_rest:
        for k, b in enumerate(bones):
            local[k] = q[BONE_INDEX[b]]
    else:
        posed: list = [None] * n
        rest = rig.rotations.tolist()
        targets = rig.targets.tolist()
        for k in range(n):
            p = rig.parents[k]
            parent_q = rig.base_rotation if p < 0 else posed[p]
            b = bones[k]
            if b is None:
                local[k] = tuple(rest[k])
                posed[k] = _qm(parent_q, local[k])
            else:
                posed[k] = _qm(w, _qm(glob[BONE_INDEX[b]], targets[k]))
                local[k] = _qm(_qc(parent_q), posed[k])
    translations = rig.translations.copy()
    translations[0] = hips_local

    order = rig.sent_nodes
    pose_pos = to_unity_position(translations[list(order)], facing)
    pose_rot = to_unity_quaternion(np.array([local[k] for k in order]), facing)
    names = rig.bone_names
    if not trackers:
        return AvatarPose(names, pose_pos, pose_rot)

    lin: list = [None] * n  # world linear parts and positions, file frame
    pos: list = [None] * n
    for k in range(n):
        p = rig.parents[k]
        plin, ppos = (rig.base[:3, :3], rig.base[:3, 3]) if p < 0 else (lin[p], pos[p])
        pos[k] = ppos + plin @ translations[k]
        lin[k] = plin @ (_qmat_fast(local[k]) * rig.scales[k])
    tpos, trot = {}, {}
    for b in TRACKER_BONES:
        k = rig.node_of(b)
        if k >= 0:
            point = pos[k]
        else:
            k = rig.node_of(_TRACKER_FALLBACK.get(b, ""))
            if k < 0 or not np.all(np.isfinite(rig.ends[k])):
                continue
            point = pos[k] + lin[k] @ rig.ends[k]
        tpos[b] = to_unity_position(point, facing)
        trot[b] = to_unity_quaternion(np.array(_qm(w, _qm(glob[BONE_INDEX[b]], _qc(w)))), facing)
    return AvatarPose(names, pose_pos, pose_rot, tpos, trot)


def pose_details(rig: AvatarRig, rotations) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """The detail bones (fingers, eyes) of ``rig`` that ``rotations`` gives, for
    ``/VMC/Ext/Bone/Pos`` (pure).

    rotations: ``{detail bone name: (4,)}`` arpose's local rotations ``(x, y, z, w)``, rig frame
        (identity = rest: the straight T-pose hand, eyes looking forward), finite and unit; bones
        left out (a hand not seen) or that the avatar lacks are not returned.
    Returns ``(names, positions (n, 3), rotations (n, 4))`` in :attr:`AvatarRig.detail_names`
    order (parents first): local positions and rotations, Unity axes, metres of the avatar.
    """
    rows = [k for k, name in enumerate(rig.detail_names) if name in rotations]
    names = tuple(rig.detail_names[k] for k in rows)
    if not rows:
        return names, np.zeros((0, 3)), np.zeros((0, 4))
    q = np.array([rotations[n] for n in names], dtype=np.float64)
    if not rig.identity_rest:
        q = qmul(rig.detail_pre[rows], qmul(q, rig.detail_post[rows]))
    return names, rig.detail_positions[rows], to_unity_quaternion(q, rig.facing)


# ---------------------------------------------------------------------------------------------
# reading files


def _load_gltf(path: Path):
    """``(GLTF2, [bytes per buffer])``; :class:`InputError` for anything unreadable."""
    from pygltflib import GLTF2

    where = f"--vmc-avatar {path}"
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{where}: cannot read the file ({e.strerror or e})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if data[:4] == b"glTF":
                g = GLTF2.load_from_bytes(data)
            else:
                g = GLTF2.from_json(data.decode("utf-8"), infer_missing=True)
            if g is None:
                raise ValueError("no JSON chunk")
            g._path = path.parent
            buffers = [g.get_data_from_buffer_uri(b.uri) for b in g.buffers]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, struct.error) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{where}: not a readable glTF / VRM file ({reason[:120]})") from None
    return g, buffers


def _accessor_matrices(g, buffers, index: int) -> np.ndarray:
    """``(n, 4, 4)`` float matrices (row-major, ``M @ p``) from a MAT4 FLOAT accessor."""
    acc = g.accessors[index]
    view = g.bufferViews[acc.bufferView]
    blob = buffers[view.buffer]
    if acc.type != "MAT4" or acc.componentType != 5126 or blob is None:
        raise ValueError("inverseBindMatrices is not a FLOAT MAT4 accessor")
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    stride = view.byteStride or 64
    rows = [np.frombuffer(blob, dtype="<f4", count=16, offset=start + k * stride) for k in range(acc.count)]
    return np.array(rows, dtype=np.float64).reshape(-1, 4, 4).transpose(0, 2, 1)


def _node_matrix(node) -> np.ndarray:
    if node.matrix:
        return np.array(node.matrix, dtype=np.float64).reshape(4, 4).T
    m = np.eye(4)
    r = node.rotation or [0.0, 0.0, 0.0, 1.0]
    s = node.scale or [1.0, 1.0, 1.0]
    m[:3, :3] = _qmat(np.asarray(r, dtype=np.float64) / np.linalg.norm(r)) * np.asarray(s, dtype=np.float64)
    m[:3, 3] = node.translation or [0.0, 0.0, 0.0]
    return m


def _vrm_bones(ext: dict, kind: str) -> dict[str, int]:
    """``{arpose bone: node}`` from a VRM humanoid extension (other VRM bones are ignored)."""
    humanoid = (ext or {}).get("humanoid") or {}
    raw = humanoid.get("humanBones")
    pairs: list[tuple[str, int]] = []
    if kind == "vrm0" and isinstance(raw, list):
        pairs = [(str(h.get("bone", "")), h.get("node")) for h in raw if isinstance(h, dict)]
    elif kind == "vrm1" and isinstance(raw, dict):
        pairs = [(str(k), v.get("node")) for k, v in raw.items() if isinstance(v, dict)]
    out = {}
    for name, node in pairs:
        bone = name[:1].upper() + name[1:]
        if bone in BONE_INDEX and isinstance(node, int):
            out[bone] = node
    return out


def _vrm_detail_bones(ext: dict, kind: str) -> dict[str, int]:
    """``{detail bone: node}`` (fingers, eyes; :data:`DETAIL_NAMES`) from a VRM humanoid extension."""
    humanoid = (ext or {}).get("humanoid") or {}
    raw = humanoid.get("humanBones")
    vrm_name = {d: d[:1].lower() + d[1:] for d in DETAIL_NAMES}
    if kind == "vrm1":
        vrm_name.update(VRM1_DETAIL_NAMES)
    by_vrm = {v: d for d, v in vrm_name.items()}
    pairs: list[tuple[str, int]] = []
    if kind == "vrm0" and isinstance(raw, list):
        pairs = [(str(h.get("bone", "")), h.get("node")) for h in raw if isinstance(h, dict)]
    elif kind == "vrm1" and isinstance(raw, dict):
        pairs = [(str(k), v.get("node")) for k, v in raw.items() if isinstance(v, dict)]
    return {by_vrm[name]: node for name, node in pairs if name in by_vrm and isinstance(node, int)}


def _named_bones(names: list[str]) -> tuple[str, dict[str, int]]:
    """The :data:`RIG_BONE_NAMES` scheme matching most node names, and its ``{bone: node}``."""
    keys: dict[str, int] = {}
    for i, name in enumerate(names):
        keys.setdefault(rig_node_key(name or ""), i)
    best, found = "", {}
    for scheme, table in RIG_BONE_NAMES.items():
        got = {b: keys[rig_node_key(n)] for b, n in table.items() if rig_node_key(n) in keys}
        if len(got) > len(found):
            best, found = scheme, got
    return best, found


def _follow_hierarchy(bones: dict[str, int], node_parent: list[int]) -> dict[str, int]:
    """Drop bones whose node does not descend from their nearest mapped arpose ancestor's node
    (e.g. RobotExpressive's feet, which hang from the armature's root, not the lower legs)."""

    def descends(node: int, ancestor: int) -> bool:
        j = node_parent[node]
        while j >= 0:
            if j == ancestor:
                return True
            j = node_parent[j]
        return False

    kept: dict[str, int] = {}
    for b in BONE_NAMES:
        if b not in bones:
            continue
        p = PARENTS[BONE_INDEX[b]]
        while p >= 0 and BONE_NAMES[p] not in kept:
            p = PARENTS[p]
        if p < 0 and b != "Hips":
            continue
        if p >= 0 and not descends(bones[b], kept[BONE_NAMES[p]]):
            continue
        kept[b] = bones[b]
    return kept


def read_avatar(path: str | Path, convention: str | None = None) -> AvatarRig:
    """Read an avatar's rest skeleton from a ``.vrm`` (VRM 0.x or 1.0), ``.glb`` or ``.gltf`` file.

    Humanoid bones come from ``extensions.VRM.humanoid.humanBones`` (VRM 0.x),
    ``extensions.VRMC_vrm.humanoid.humanBones`` (VRM 1.0), or for a plain glTF from node names
    (:data:`~arpose.skeleton.RIG_BONE_NAMES`). convention: the bone form to send
    (:data:`CONVENTIONS`); None chooses by the file: ``"vrm0"`` for VRM 0.x files (which are
    normalised), ``"vrm1"`` (original bones) for VRM 1.0 and glTF.

    Raises :class:`~arpose.errors.InputError` (one line, naming the file) for a file that is
    missing, unreadable, not glTF, or lacks the bones :data:`REQUIRED_BONES`;
    :class:`~arpose.errors.ConfigError` for an unknown convention or suffix.
    """
    p = Path(path)
    where = f"--vmc-avatar {p}"
    if convention is not None and convention not in CONVENTIONS:
        raise ConfigError(f"--vmc-vrm must be 0 or 1, got {convention!r}")
    if p.suffix.lower() not in AVATAR_SUFFIXES:
        raise ConfigError(f"{where}: expected a {', '.join(AVATAR_SUFFIXES)} file")
    g, buffers = _load_gltf(p)
    nodes = g.nodes or []
    if not nodes:
        raise InputError(f"{where}: the file has no nodes (no skeleton)")
    ext = g.extensions or {}
    details: dict[str, int] = {}
    if isinstance(ext.get("VRMC_vrm"), dict):
        kind, bones = "vrm1", _vrm_bones(ext["VRMC_vrm"], "vrm1")
        details = _vrm_detail_bones(ext["VRMC_vrm"], "vrm1")
        how = "VRMC_vrm.humanoid"
    elif isinstance(ext.get("VRM"), dict):
        kind, bones = "vrm0", _vrm_bones(ext["VRM"], "vrm0")
        details = _vrm_detail_bones(ext["VRM"], "vrm0")
        how = "VRM.humanoid"
    else:
        scheme, bones = _named_bones([n.name or "" for n in nodes])
        kind, how = "gltf", f"node names ({scheme or 'no known naming scheme'})"
    node_parent = [-1] * len(nodes)
    try:
        for i, n in enumerate(nodes):
            for c in n.children or []:
                node_parent[c] = i
        bones = {b: i for b, i in bones.items() if 0 <= i < len(nodes)}
        details = {b: i for b, i in details.items() if 0 <= i < len(nodes)}
        bones = _follow_hierarchy(bones, node_parent)
        missing = [b for b in REQUIRED_BONES if b not in bones]
        if missing:
            raise InputError(f"{where}: no {', '.join(missing)} found by {how}; a humanoid avatar needs them")
        local_trs = [_node_matrix(n) for n in nodes]
        rest_local = list(local_trs)
        for skin in g.skins or []:
            if skin.inverseBindMatrices is None:
                continue
            ibm = dict(zip(skin.joints, _accessor_matrices(g, buffers, skin.inverseBindMatrices)))
            for j in skin.joints:
                par = node_parent[j]
                if par in ibm and rest_local[j] is local_trs[j]:
                    rest_local[j] = ibm[par] @ np.linalg.inv(ibm[j])
    except (ValueError, IndexError, TypeError, np.linalg.LinAlgError) as e:
        raise InputError(
            f"{where}: malformed glTF ({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})"
        ) from None
    chosen = convention or ("vrm0" if kind == "vrm0" else "vrm1")
    return _build_rig(
        p.name,
        kind,
        chosen,
        [n.name or f"node{i}" for i, n in enumerate(nodes)],
        node_parent,
        local_trs,
        rest_local,
        [n.mesh is not None for n in nodes],
        bones,
        details,
    )
