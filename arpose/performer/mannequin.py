"""A procedural humanoid mannequin built with trimesh, attached to :mod:`arpose.skeleton`.

Every body part is a mesh in one bone's local frame (rig axes at rest: metres, +Y up, +Z the
subject's forward, +X the subject's left). Posing the mannequin is therefore just placing each
part at its bone's global transform from :func:`arpose.skeleton.forward_kinematics`; no skinning.

Shapes are tapered capsules (convex hulls of two spheres) and ellipsoids, sized for the default
1.72 m body and scaled with :class:`MannequinConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from ..errors import ConfigError
from ..skeleton import (
    BONE_INDEX,
    FINGER_BONE_INDEX,
    FINGER_BONES,
    FINGER_REST_DIRECTIONS,
    FINGER_REST_OFFSETS,
    NUM_BONES,
    PHALANGES,
    scaled_offsets,
)

DEFAULT_HEIGHT = 1.72

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class MannequinConfig:
    """Body size, proportions and colours of the mannequin.

    height: standing height in metres (all rest offsets and radii scale by ``height / 1.72``).
    shoulder_width, arm_length, leg_length, torso_length: extra factors (1 = default
        proportions) on the matching rest offsets of :mod:`arpose.skeleton`.
    girth: factor on every limb and torso radius.
    skin, hair, shirt, trousers, shoes: linear RGB in [0, 1].
    """

    height: float = DEFAULT_HEIGHT
    shoulder_width: float = 1.0
    arm_length: float = 1.0
    leg_length: float = 1.0
    torso_length: float = 1.0
    girth: float = 1.0
    skin: RGB = (0.86, 0.66, 0.52)
    hair: RGB = (0.12, 0.08, 0.05)
    shirt: RGB = (0.14, 0.36, 0.70)
    trousers: RGB = (0.22, 0.22, 0.28)
    shoes: RGB = (0.45, 0.12, 0.10)

    def __post_init__(self) -> None:
        if not (0.5 <= self.height <= 2.5):
            raise ConfigError(f"mannequin height must be 0.5 to 2.5 m, got {self.height}")
        for name in ("shoulder_width", "arm_length", "leg_length", "torso_length", "girth"):
            v = getattr(self, name)
            if not (0.5 <= v <= 2.0):
                raise ConfigError(f"mannequin {name} must be a factor from 0.5 to 2.0, got {v}")

    @property
    def scale(self) -> float:
        """Uniform body scale relative to the default 1.72 m skeleton."""
        return self.height / DEFAULT_HEIGHT

    def offsets(self) -> np.ndarray:
        """``(B, 3)`` rest offsets in metres (rig frame) for this body."""
        off = scaled_offsets(self.height).copy()
        for side in ("Left", "Right"):
            off[BONE_INDEX[f"{side}Shoulder"], 0] *= self.shoulder_width
            off[BONE_INDEX[f"{side}UpperArm"], 0] *= self.shoulder_width
            for b in ("LowerArm", "Hand"):
                off[BONE_INDEX[f"{side}{b}"]] *= self.arm_length
            for b in ("LowerLeg", "Foot"):
                off[BONE_INDEX[f"{side}{b}"]] *= self.leg_length
        for b in ("Spine", "Chest", "UpperChest", "Neck"):
            off[BONE_INDEX[b]] *= self.torso_length
        for side in ("Left", "Right"):
            off[BONE_INDEX[f"{side}Shoulder"], 1] *= self.torso_length
        # The root offset is the Hips height at rest: legs set it.
        leg = -(off[BONE_INDEX["LeftLowerLeg"], 1] + off[BONE_INDEX["LeftFoot"], 1])
        off[0, 1] = leg + 0.08 * self.scale
        return off


#: Radii (metres, 1.72 m body) along each finger: at the base, middle and end joints and
#: at the tip.
_FINGER_RADII = {
    "Thumb": (0.0125, 0.0115, 0.0105, 0.0095),
    "Index": (0.0098, 0.0088, 0.008, 0.0072),
    "Middle": (0.0102, 0.0092, 0.0083, 0.0074),
    "Ring": (0.0096, 0.0087, 0.0078, 0.007),
    "Little": (0.0086, 0.0078, 0.007, 0.0063),
}


def _finger_segment(b: int) -> np.ndarray:
    """``(3,)`` rest vector (1.72 m body) from finger bone ``b``'s joint to its child's joint
    (or to its tip for a distal bone)."""
    end = FINGER_BONES[b].end
    return np.asarray(end if end is not None else FINGER_BONES[b + 1].offset, dtype=np.float64)


@dataclass(frozen=True)
class Part:
    """One rigid piece: ``mesh`` vertices in metres in bone ``bone``'s local frame; ``color``
    RGB. ``bone`` indexes :data:`arpose.skeleton.BONES`, or is ``NUM_BONES + i`` for finger
    bone ``i`` of :data:`arpose.skeleton.FINGER_BONES`."""

    name: str
    bone: int
    mesh: trimesh.Trimesh
    color: RGB


def _sphere(center, radius: float, radii=None) -> trimesh.Trimesh:
    m = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
    r = np.asarray(radii if radii is not None else (radius,) * 3, dtype=np.float64)
    m.vertices = m.vertices * r + np.asarray(center, dtype=np.float64)
    return m


def _hull(spheres: list[tuple[tuple[float, float, float], float]], squash=(1.0, 1.0, 1.0)) -> trimesh.Trimesh:
    """Convex hull of spheres ``(centre (3,), radius)``, then scaled about the first centre
    by ``squash`` (to flatten hands)."""
    pts = []
    for c, r in spheres:
        s = trimesh.creation.icosphere(subdivisions=2, radius=r)
        pts.append(s.vertices + np.asarray(c, dtype=np.float64))
    v = np.concatenate(pts)
    c0 = np.asarray(spheres[0][0], dtype=np.float64)
    v = (v - c0) * np.asarray(squash, dtype=np.float64) + c0
    return trimesh.convex.convex_hull(v)


def _segment(a, b, ra: float, rb: float) -> trimesh.Trimesh:
    """A tapered capsule from point ``a`` (radius ``ra``) to ``b`` (radius ``rb``)."""
    return _hull([(tuple(a), ra), (tuple(b), rb)])


def build_parts(config: MannequinConfig = MannequinConfig()) -> list[Part]:
    """The mannequin's rigid parts for ``config``, each in its bone's local frame.

    Sizes follow the skeleton's marker table (:data:`arpose.skeleton.MARKER_OFFSETS`), so every
    ground-truth marker lies on or inside the body: eyes, nose and mouth on the face, finger
    markers in the hand, heel and foot-index markers in the shoe.
    """
    k = config.scale
    g = k * config.girth
    off = config.offsets()
    c = config
    parts: list[Part] = []

    def add(name: str, bone: str, mesh: trimesh.Trimesh, color: RGB) -> None:
        parts.append(Part(name, BONE_INDEX[bone], mesh, color))

    def o(bone: str) -> np.ndarray:
        return off[BONE_INDEX[bone]]

    # Torso: pelvis and three rounded slabs (hulls of two spheres, flattened front to back)
    # that follow the spine bones and overlap at the joints.
    add("pelvis", "Hips", _sphere((0, 0.03 * k, 0), 0, radii=(0.165 * g, 0.11 * k, 0.11 * g)), c.trousers)
    sp, ch, uc = o("Chest")[1], o("UpperChest")[1], o("Neck")[1]
    shoulder = o("LeftShoulder") + o("LeftUpperArm")
    flat = (1.0, 1.0, 0.68)
    add("belly", "Spine", _hull([((0, 0, 0), 0.145 * g), ((0, sp, 0), 0.15 * g)], squash=flat), c.shirt)
    add("chest", "Chest", _hull([((0, 0, 0), 0.15 * g), ((0, ch, 0), 0.16 * g)], squash=flat), c.shirt)
    add(
        "upper_chest",
        "UpperChest",
        _hull(
            [
                ((0, 0, 0), 0.16 * g),
                ((shoulder[0] - 0.06 * g, shoulder[1] - 0.02 * k, 0), 0.07 * g),
                ((-shoulder[0] + 0.06 * g, shoulder[1] - 0.02 * k, 0), 0.07 * g),
                ((0, uc, 0), 0.08 * g),
            ],
            squash=flat,
        ),
        c.shirt,
    )
    # Neck and head (cranium, jaw, hair, eyes, nose, mouth) in the Head frame (ear centre).
    add("neck", "Neck", _segment((0, 0, 0), o("Head"), 0.052 * g, 0.048 * g), c.skin)
    add("cranium", "Head", _sphere((0, 0.015 * k, 0.01 * k), 0, radii=(0.08 * k, 0.12 * k, 0.1 * k)), c.skin)
    add("jaw", "Head", _sphere((0, -0.04 * k, 0.03 * k), 0, radii=(0.065 * k, 0.06 * k, 0.075 * k)), c.skin)
    add("hair", "Head", _sphere((0, 0.045 * k, -0.018 * k), 0, radii=(0.084 * k, 0.108 * k, 0.1 * k)), c.hair)
    add("nose", "Head", _sphere((0, 0.0, 0.1 * k), 0.02 * k), c.skin)
    add(
        "mouth",
        "Head",
        _sphere((0, -0.045 * k, 0.085 * k), 0, radii=(0.026 * k, 0.008 * k, 0.012 * k)),
        (0.55, 0.15, 0.15),
    )
    for sx in (1.0, -1.0):
        add("eye", "Head", _sphere((sx * 0.032 * k, 0.035 * k, 0.092 * k), 0.013 * k), (0.05, 0.05, 0.06))
        add("ear", "Head", _sphere((sx * 0.075 * k, 0.0, 0.0), 0, radii=(0.015 * k, 0.03 * k, 0.02 * k)), c.skin)
    # Limbs, per side. Arms point along +-X at rest (T-pose, palms down, thumbs forward).
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        add("clavicle", f"{side}Shoulder", _segment((0, 0, 0), o(f"{side}UpperArm"), 0.055 * g, 0.06 * g), c.shirt)
        add("upper_arm", f"{side}UpperArm", _segment((0, 0, 0), o(f"{side}LowerArm"), 0.052 * g, 0.043 * g), c.shirt)
        add("forearm", f"{side}LowerArm", _segment((0, 0, 0), o(f"{side}Hand"), 0.04 * g, 0.031 * g), c.skin)
        # The palm (wrist to knuckles, flattened across the palm normal) and the thenar pad;
        # the fingers are the jointed finger bones below.
        palm = [((sx * 0.012 * k, 0, 0), 0.026 * k), ((sx * 0.035 * k, 0, 0.02 * k), 0.02 * k)]
        palm.append(((sx * 0.035 * k, 0, -0.022 * k), 0.019 * k))
        for finger in ("Index", "Middle", "Ring", "Little"):
            base = FINGER_REST_OFFSETS[FINGER_BONE_INDEX[f"{side}{finger}Proximal"]] * k
            palm.append((tuple(base), (0.0105 if finger != "Little" else 0.0095) * k))
        add("palm", f"{side}Hand", _hull(palm, squash=(1.0, 0.62, 1.0)), c.skin)
        thenar = _sphere((sx * 0.03 * k, -0.006 * k, 0.018 * k), 0, radii=(0.022 * k, 0.013 * k, 0.016 * k))
        add("thenar", f"{side}Hand", thenar, c.skin)
        for finger, radii in _FINGER_RADII.items():
            for j, phalanx in enumerate(PHALANGES):
                b = FINGER_BONE_INDEX[f"{side}{finger}{phalanx}"]
                length = float(np.linalg.norm(_finger_segment(b)))
                tip = FINGER_REST_DIRECTIONS[b] * length * k
                mesh = _segment((0, 0, 0), tip, radii[j] * k, radii[j + 1] * k)
                parts.append(Part(f"finger_{finger.lower()}_{phalanx.lower()}", NUM_BONES + b, mesh, c.skin))
        add("thigh", f"{side}UpperLeg", _segment((0, 0, 0), o(f"{side}LowerLeg"), 0.08 * g, 0.056 * g), c.trousers)
        add("shin", f"{side}LowerLeg", _segment((0, 0, 0), o(f"{side}Foot"), 0.054 * g, 0.042 * g), c.trousers)
        toe = o(f"{side}Toes")
        foot = _hull(
            [
                ((0, -0.005 * k, 0), 0.042 * k),
                ((0, -0.05 * k, -0.05 * k), 0.03 * k),
                ((0, toe[1] + 0.004 * k, toe[2]), 0.024 * k),
                ((sx * 0.02 * k, toe[1] + 0.004 * k, toe[2] - 0.01 * k), 0.024 * k),
            ]
        )
        add("shoe", f"{side}Foot", foot, c.shoes)
        end = np.array([0.0, 0.0, 0.055 * k])
        add(
            "toecap", f"{side}Toes", _segment((0, 0.004 * k, 0), end + (0, 0.004 * k, 0), 0.023 * k, 0.019 * k), c.shoes
        )
    return parts


def sole_points(offsets: np.ndarray, scale: float) -> dict[str, np.ndarray]:
    """Lowest points of a shoe at rest: ``{"heel", "ball"}`` -> ``(3,)`` metres in the Foot
    bone's frame, both 0.08 m (times ``scale``) below the ankle, where the shoe meshes of
    :func:`build_parts` end."""
    toes = offsets[BONE_INDEX["LeftToes"]]
    return {
        "heel": np.array([0.0, -0.08 * scale, -0.05 * scale]),
        "ball": np.array([0.0, toes[1] + 0.004 * scale - 0.024 * scale, toes[2]]),
    }


__all__ = ["MannequinConfig", "Part", "build_parts", "sole_points"]
