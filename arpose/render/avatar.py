"""A rigid-segment avatar driven by the retargeted bone rotations.

Each bone of :mod:`arpose.skeleton` is a rigid piece (rounded rods from its joint to its
children, an ellipsoid head with a nose so the facing reads) modelled in the bone's rest
frame (rig axes, metres, default 1.72 m body). Posing runs
:func:`arpose.skeleton.forward_kinematics` on the body's *local* rotations with the avatar's
own rest offsets (scaled to the person), so it shows exactly what a rig driven by the same
rotations (VMC, BVH) would do. Placement: ``"over"`` puts its root on the person's Hips,
``"beside"`` shifts it sideways towards the image centre. Frame: *world* of
:mod:`arpose.render.frames`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import ConfigError
from ..skeleton import BONE_INDEX, BONES, CHILDREN, END_OFFSETS, REST_OFFSETS, forward_kinematics
from ..types import Camera
from .frames import BodyFrames

PLACEMENTS = ("beside", "over")

_LEFT = (0.25, 0.55, 1.0, 1.0)
_RIGHT = (1.0, 0.55, 0.2, 1.0)
_CENTRE = (0.85, 0.85, 0.9, 1.0)


@dataclass(frozen=True)
class AvatarConfig:
    """placement: ``"beside"`` or ``"over"``. gap_m: how far beside the person the avatar's
    root stands (metres, default body; scaled). hysteresis: fraction of the image width the
    person's root must pass the centre by before the avatar changes sides."""

    placement: str = "beside"
    gap_m: float = 0.9
    hysteresis: float = 0.1

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ConfigError(f"avatar placement must be one of {', '.join(PLACEMENTS)}, got {self.placement!r}")


def _radius(name: str) -> float:
    if name in ("Hips", "Spine", "Chest", "UpperChest"):
        return 0.07
    if "UpperLeg" in name:
        return 0.06
    if "LowerLeg" in name or "UpperArm" in name or name == "Neck":
        return 0.045
    return 0.035


def bone_meshes() -> list:
    """``(B,)`` trimesh meshes, bone ``i``'s piece in its own rest frame (or None)."""
    import trimesh

    meshes = []
    for i, bone in enumerate(BONES):
        colour = _LEFT if bone.name.startswith("Left") else _RIGHT if bone.name.startswith("Right") else _CENTRE
        parts = []
        r = _radius(bone.name)
        targets = [REST_OFFSETS[c] for c in CHILDREN[i]]
        if bone.end is not None and bone.name != "Head":
            targets.append(END_OFFSETS[i])
        for t in targets:
            if np.linalg.norm(t) > 1e-6:
                parts.append(trimesh.creation.cylinder(radius=r, segment=[np.zeros(3), t], sections=8))
                parts.append(trimesh.creation.icosphere(subdivisions=1, radius=r).apply_translation(t))
        parts.append(trimesh.creation.icosphere(subdivisions=1, radius=r * 1.15))
        if bone.name == "Head":
            head = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
            head.apply_scale([0.08, 0.1, 0.09])
            head.apply_translation([0.0, 0.05, 0.0])
            nose = trimesh.creation.cone(radius=0.02, height=0.05, sections=8)
            nose.apply_translation([0.0, 0.04, 0.08])
            parts += [head, nose]
        mesh = trimesh.util.concatenate(parts)
        mesh.visual.face_colors = np.round(np.array(colour) * 255).astype(np.uint8)
        meshes.append(mesh)
    return meshes


class Avatar:
    """Poses the rigid-segment avatar for one or more people (state: which side each
    person's avatar stands on). Meshes are built for pyrender on first use."""

    def __init__(self, config: AvatarConfig = AvatarConfig(), lighting: str = "baked") -> None:
        self.config = config
        self.lighting = lighting
        self._meshes: list | None = None
        self._side: dict[int, float] = {}

    def _geometry(self):
        """Every bone's piece as flat triangle-corner arrays: positions ``(N, 3)`` (bone frame),
        normals ``(N, 3)``, colours ``(N, 4)`` uint8 (shading baked in for ``"baked"``), the bone
        of each vertex ``(N,)`` and each bone's ``(8, 3)`` box corners."""
        if self._meshes is None:
            from .props import bake_lighting, box_corners

            pos, nrm, col, bone, corners = [], [], [], [], []
            for i, m in enumerate(bone_meshes()):
                tri = m.vertices[m.faces].reshape(-1, 3)
                if self.lighting == "baked":
                    colours = bake_lighting(m)[0].visual.vertex_colors
                else:
                    colours = np.repeat(m.visual.face_colors, 3, axis=0)
                pos.append(tri)
                nrm.append(np.repeat(m.face_normals, 3, axis=0))
                col.append(colours)
                bone.append(np.full(len(tri), i))
                corners.append(box_corners([m]))
            self._meshes = (
                np.concatenate(pos),
                np.concatenate(nrm),
                np.concatenate(col).astype(np.uint8),
                np.concatenate(bone),
                np.stack(corners),
            )
        return self._meshes

    def root_shift(self, frames: BodyFrames, camera: Camera, person_id: int = 0) -> np.ndarray:
        """``(3,)`` metres in *world* from the person's Hips to the avatar's root."""
        if self.config.placement == "over":
            return np.zeros(3)
        hips = frames.positions[BONE_INDEX["Hips"]]
        u = camera.fx * hips[0] / -hips[2] + camera.cx if hips[2] < 0 else camera.cx
        rel = (u - camera.cx) / camera.width
        side = self._side.get(person_id, -1.0 if rel > 0 else 1.0)
        if side > 0 and rel > self.config.hysteresis:
            side = -1.0
        elif side < 0 and rel < -self.config.hysteresis:
            side = 1.0
        self._side[person_id] = side
        return np.array([side * self.config.gap_m * frames.scale, 0.0, 0.0])

    def pose(self, frames: BodyFrames, camera: Camera, person_id: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
        """Global ``(B, 3)`` positions and ``(B, 4)`` rotations of the avatar in *world*, or
        None when the person's Hips are unknown."""
        hips = frames.positions[BONE_INDEX["Hips"]]
        if not np.isfinite(hips).all():
            return None
        root = hips + self.root_shift(frames, camera, person_id)
        return forward_kinematics(frames.local_rotations, root, REST_OFFSETS * frames.scale)

    def items(
        self, frames: BodyFrames, camera: Camera, person_id: int = 0
    ) -> list[tuple[object, np.ndarray, np.ndarray]]:
        """``[(pyrender mesh, points (N, 3), identity (4, 4))]`` for the renderer: the whole
        avatar posed into one mesh in *world* (one draw call; the points bound it)."""
        posed = self.pose(frames, camera, person_id)
        if posed is None:
            return []
        import pyrender

        pos, rot = posed
        mats = Rotation.from_quat(rot).as_matrix() * frames.scale
        v, n, c, bone, corners = self._geometry()
        world = np.einsum("nij,nj->ni", mats[bone], v) + pos[bone]
        normals = np.einsum("nij,nj->ni", mats[bone], n) / frames.scale
        material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.1, roughnessFactor=0.7
        )
        prim = pyrender.Primitive(
            positions=world.astype(np.float32),
            normals=normals.astype(np.float32),
            color_0=c,
            material=material,
            mode=pyrender.constants.GLTF.TRIANGLES,
        )
        bounds = np.einsum("bij,bkj->bki", mats, corners) + pos[:, None, :]
        return [(pyrender.Mesh([prim]), bounds.reshape(-1, 3), np.eye(4))]
