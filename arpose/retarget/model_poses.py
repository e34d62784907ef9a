"""Random plausible poses inside the solver's joint model (for round-trip tests and benches).

The 33 landmarks cannot observe every degree of freedom of the skeleton, so the solver
(:mod:`arpose.retarget.solver`) commits to a model; poses drawn here stay inside it, so that
``forward_kinematics -> markers_from_pose -> solve`` must give the same rotations back:

* Hips: any yaw, pitch and roll within +-30 / +-20 degrees (the whole torso bend is here).
* Spine, Chest, UpperChest: a twist about their Y axis only, the same for all three (the
  hip-to-shoulder twist split evenly). Clavicles (Left/RightShoulder): rest.
* Neck: a swing (axis perpendicular to Y, no twist); Head: any yaw, pitch, roll.
* UpperArm / UpperLeg: any rotation. LowerArm: a hinge about Y bent 20-140 degrees towards +Z,
  then any forearm twist about X; LowerLeg: a hinge about X bent 20-120 degrees towards -Z, then
  a twist about Y. Hand: a swing (axis perpendicular to X); Foot: a swing (axis
  perpendicular to Y). Toes: rest.

Quaternions ``(x, y, z, w)``, local (relative to the parent), rig frame.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ..skeleton import BONE_INDEX, NUM_BONES


def _deg(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.radians(rng.uniform(lo, hi)))


def _random_axis_rotation(rng: np.random.Generator, max_deg: float) -> Rotation:
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    return Rotation.from_rotvec(axis * _deg(rng, 0.0, max_deg))


def random_model_pose(rng: np.random.Generator) -> np.ndarray:
    """``(B, 4)`` local rotations of a random pose inside the solver's model (module doc)."""
    q = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    b = BONE_INDEX

    def put(name: str, r: Rotation) -> None:
        q[b[name]] = r.as_quat()

    put("Hips", Rotation.from_euler("YXZ", [_deg(rng, -180, 180), _deg(rng, -30, 30), _deg(rng, -20, 20)]))
    twist = _deg(rng, -40, 40) / 3.0
    for name in ("Spine", "Chest", "UpperChest"):
        put(name, Rotation.from_rotvec([0.0, twist, 0.0]))
    put("Neck", Rotation.from_rotvec([_deg(rng, -20, 20), 0.0, _deg(rng, -20, 20)]))
    put("Head", Rotation.from_euler("YXZ", [_deg(rng, -50, 50), _deg(rng, -30, 30), _deg(rng, -20, 20)]))
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        put(f"{side}UpperArm", _random_axis_rotation(rng, 90.0))
        hinge = Rotation.from_rotvec([0.0, -sx * _deg(rng, 20, 140), 0.0])
        put(f"{side}LowerArm", hinge * Rotation.from_rotvec([_deg(rng, -80, 80), 0.0, 0.0]))
        put(f"{side}Hand", Rotation.from_rotvec([0.0, _deg(rng, -60, 60), _deg(rng, -30, 30)]))
        put(f"{side}UpperLeg", _random_axis_rotation(rng, 60.0))
        knee = Rotation.from_rotvec([_deg(rng, 20, 120), 0.0, 0.0])
        put(f"{side}LowerLeg", knee * Rotation.from_rotvec([0.0, _deg(rng, -30, 30), 0.0]))
        put(f"{side}Foot", Rotation.from_rotvec([_deg(rng, -30, 30), 0.0, _deg(rng, -15, 15)]))
    return q
