"""Landmarks to bone rotations: one small pure solver per body region, combined by :func:`solve`.

Conventions
-----------
* Input points are the 33 landmarks in the **rig frame** (metres, right-handed, +Y up, +Z the
  subject's forward when facing the camera, +X the subject's left): for MediaPipe world
  landmarks ``points = world @ MP_TO_RIG.T`` (:func:`mp_world_to_rig`). A subject facing the
  camera gets the identity Hips rotation. ``LEFT_*`` landmarks are always the subject's left.
* Output rotations are quaternions ``(x, y, z, w)``; *global* = bone frame to the input frame,
  *local* = ``parent_global^-1 * global`` (the Hips' local is its global). Identity everywhere
  is the T-pose of :mod:`arpose.skeleton`.
* Every bone gets its global rotation from a **primary direction** (joint to child joint,
  rest direction from the skeleton's offsets) and a **second axis** that fixes the twist:

  ==================  ======================================  ==================================
  bone                primary (rest)                          second axis (rest)
  ==================  ======================================  ==================================
  Hips                hip centre -> shoulder centre (+Y)      right hip -> left hip (+X)
  Spine/Chest/Upper.  same line (the torso is one straight    shoulder line (+X); the twist
                      segment: BlazePose has no spine points) between hip and shoulder lines is
                                                              split evenly over the three bones
  Neck                shoulder centre -> ear centre (+Y)      none: swing from UpperChest
  Head                right ear -> left ear (+X)              ear centre -> nose (+Z)
  Left/RightShoulder  clavicle joint -> shoulder (+-X)        none: swing from UpperChest
  UpperArm            shoulder -> elbow (+-X)                 elbow plane: forearm bend
                                                              direction (+Z); arm straight:
                                                              the forearm's frame
  LowerArm            elbow -> wrist (+-X)                    the hand's frame (the wrist keeps
                                                              no twist: pronation is forearm)
  Hand                wrist -> mid(index, pinky) (+-X)        pinky -> index (+Z, thumb side)
  UpperLeg            hip -> knee (-Y)                        knee plane: shin bend direction
                                                              (-Z); leg straight: the shin's
  LowerLeg            knee -> ankle (-Y)                      the foot's frame (no ankle twist)
  Foot                heel -> foot index (+Z)                 heel -> ankle (+Y)
  Toes                identity local (toe flexion is not observed)
  ==================  ======================================  ==================================

  So the elbow and knee are hinge + twist joints and the wrist and ankle have no twist; a
  bend of the spine is all in the Hips (the torso is rigid apart from the twist), the neck
  has no twist (the Head carries the yaw) and the clavicles only swing.
* Bones whose landmarks have visibility below ``min_visibility`` take ``fallback`` (local
  rotations; the stateful wrapper passes the previous frame's, or identity = rest). With the
  hips unseen (upper-body shots) the Hips take their second axis from the shoulder line and
  the spine twist is 0. Synthetic poses inside this model: :mod:`.model_poses`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..landmarks import NUM_LANDMARKS, PoseLandmark as L
from ..skeleton import BONE_INDEX, MP_TO_RIG, NUM_BONES, PARENTS, REST_OFFSETS, joints_from_landmarks
from .body import BodyPose
from .geometry import (angle_between, continuous, frame_rotation, matrices_to_quats, perpendicular, quats_to_matrices,
                       swing, unit)

X = np.array([1.0, 0.0, 0.0])
Y = np.array([0.0, 1.0, 0.0])
Z = np.array([0.0, 0.0, 1.0])
SIDES = (("Left", "LEFT", 1.0), ("Right", "RIGHT", -1.0))


@dataclass(frozen=True)
class SolverConfig:
    """min_visibility: bones using a landmark below this take the fallback rotation.
    straight_deg, bent_deg: elbow/knee bend (0 = straight) below ``straight_deg`` takes the
    upper bone's twist from the lower bone's frame; above ``bent_deg`` from the bend plane;
    blended in between (the plane of a straight limb is undefined)."""

    min_visibility: float = 0.5
    straight_deg: float = 5.0
    bent_deg: float = 15.0


def mp_world_to_rig(world: np.ndarray) -> np.ndarray:
    """``(..., 3)`` MediaPipe world (x image-right, y down, z away) to rig axes (x image-right =
    subject's left when facing the camera, y up, z towards the camera)."""
    return np.asarray(world, dtype=np.float64) @ MP_TO_RIG.T


def _uses() -> list[tuple[int, ...]]:
    """Landmarks whose visibility gates each bone's rotation."""
    torso = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    u: dict[str, tuple] = {
        "Hips": torso, "Spine": torso, "Chest": torso, "UpperChest": torso,
        "Neck": torso + (L.LEFT_EAR, L.RIGHT_EAR), "Head": (L.LEFT_EAR, L.RIGHT_EAR, L.NOSE),
    }
    for s, S, _ in SIDES:
        u[f"{s}Shoulder"] = torso
        u[f"{s}UpperArm"] = (L[f"{S}_SHOULDER"], L[f"{S}_ELBOW"])
        u[f"{s}LowerArm"] = (L[f"{S}_ELBOW"], L[f"{S}_WRIST"])
        u[f"{s}Hand"] = (L[f"{S}_WRIST"], L[f"{S}_INDEX"], L[f"{S}_PINKY"])
        u[f"{s}UpperLeg"] = (L[f"{S}_HIP"], L[f"{S}_KNEE"])
        u[f"{s}LowerLeg"] = (L[f"{S}_KNEE"], L[f"{S}_ANKLE"])
        u[f"{s}Foot"] = (L[f"{S}_ANKLE"], L[f"{S}_HEEL"], L[f"{S}_FOOT_INDEX"])
        u[f"{s}Toes"] = (L[f"{S}_HEEL"], L[f"{S}_FOOT_INDEX"])
    return [tuple(int(i) for i in u[name]) for name in (n for n in BONE_INDEX)]


#: ``BONE_LANDMARKS[b]``: the landmarks bone ``b``'s rotation is computed from.
BONE_LANDMARKS: tuple[tuple[int, ...], ...] = tuple(_uses())


def bone_confidence(visibility: np.ndarray) -> np.ndarray:
    """``(B,)`` in [0, 1]: the lowest visibility among the landmarks each bone uses (NaN -> 0)."""
    vis = np.nan_to_num(np.asarray(visibility, dtype=np.float64), nan=0.0)
    return np.array([vis[list(idx)].min() for idx in BONE_LANDMARKS])


def _bend_weight(upper: np.ndarray, lower: np.ndarray, cfg: SolverConfig) -> float:
    bend = angle_between(upper, lower)
    if not np.isfinite(bend):
        return 0.0
    return float(np.clip((bend - cfg.straight_deg) / (cfg.bent_deg - cfg.straight_deg), 0.0, 1.0))


def _aligned_to(frame: np.ndarray | None, axis_in_frame: np.ndarray, direction: np.ndarray) -> np.ndarray | None:
    """``S @ frame`` with S the smallest rotation taking ``frame @ axis_in_frame`` to
    ``direction``: the frame turned onto a new direction without extra twist."""
    if frame is None:
        return None
    s = swing(frame @ axis_in_frame, direction)
    return None if s is None else s @ frame


def _ry(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def solve_torso(p: np.ndarray, ok_hips: bool) -> tuple[np.ndarray | None, float]:
    """Hips global rotation (matrix) and the hip-to-shoulder twist (radians, about the
    torso axis, positive turns the shoulders towards the subject's left).

    p: ``(33, 3)`` rig-frame landmarks. ok_hips: whether the hips are visible; without them
    the shoulder line gives the Hips' second axis and the twist is 0.
    """
    hc = (p[L.LEFT_HIP] + p[L.RIGHT_HIP]) / 2
    sc = (p[L.LEFT_SHOULDER] + p[L.RIGHT_SHOULDER]) / 2
    up = sc - hc
    shoulders = p[L.LEFT_SHOULDER] - p[L.RIGHT_SHOULDER]
    hips = p[L.LEFT_HIP] - p[L.RIGHT_HIP] if ok_hips else shoulders
    g_hips = frame_rotation(Y, X, up, hips)
    g_upper = frame_rotation(Y, X, up, shoulders)
    if g_hips is None or g_upper is None or not ok_hips:
        return g_hips, 0.0
    rel = g_hips.T @ g_upper          # a rotation about Y
    return g_hips, math.atan2(rel[0, 2], rel[0, 0])


def solve_head(p: np.ndarray) -> np.ndarray | None:
    """Head global rotation from the ear line (+X) and ear centre -> nose (+Z)."""
    ec = (p[L.LEFT_EAR] + p[L.RIGHT_EAR]) / 2
    return frame_rotation(X, Z, p[L.LEFT_EAR] - p[L.RIGHT_EAR], p[L.NOSE] - ec)


def solve_hand(p: np.ndarray, side: str, sx: float) -> np.ndarray | None:
    """Hand global rotation: wrist -> mid(index, pinky) along ``sx * X``, pinky -> index
    (thumb side) towards +Z. side: ``"LEFT"``/``"RIGHT"``."""
    wrist, index, pinky = p[L[f"{side}_WRIST"]], p[L[f"{side}_INDEX"]], p[L[f"{side}_PINKY"]]
    return frame_rotation(sx * X, Z, (index + pinky) / 2 - wrist, index - pinky)


def solve_foot(p: np.ndarray, side: str) -> np.ndarray | None:
    """Foot global rotation: heel -> foot index along +Z, heel -> ankle towards +Y."""
    heel = p[L[f"{side}_HEEL"]]
    return frame_rotation(Z, Y, p[L[f"{side}_FOOT_INDEX"]] - heel, p[L[f"{side}_ANKLE"]] - heel)


def solve_limb(upper_dir: np.ndarray, lower_dir: np.ndarray, rest_dir: np.ndarray, rest_bend: np.ndarray,
               lower_global: np.ndarray | None, parent_global: np.ndarray, cfg: SolverConfig) -> np.ndarray | None:
    """Global rotation of an upper limb bone (UpperArm, UpperLeg).

    upper_dir, lower_dir: observed directions of the upper and lower bone (rig frame).
    rest_dir: the upper bone's rest direction; rest_bend: the direction the lower bone bends
    towards at rest (+Z for elbows, -Z for knees). lower_global: the lower bone's global
    rotation if known (used when the limb is straight), parent_global: the parent's final
    global rotation (used when the limb is straight and ``lower_global`` is unknown).
    """
    d = unit(upper_dir)
    if d is None:
        return None
    bend = perpendicular(lower_dir, d)
    if lower_global is not None:
        fallback = perpendicular(lower_global @ rest_bend, d)
    else:
        s = swing(parent_global @ rest_dir, d)
        fallback = perpendicular(s @ parent_global @ rest_bend, d) if s is not None else None
    w = _bend_weight(upper_dir, lower_dir, cfg) if bend is not None else 0.0
    if fallback is None:
        second = bend
    elif bend is None or w == 0.0:
        second = fallback
    else:
        second = w * bend + (1.0 - w) * fallback
    if second is None:
        return None
    return frame_rotation(rest_dir, rest_bend, d, second)


def _swing_from(parent_global: np.ndarray, rest_dir: np.ndarray, direction: np.ndarray) -> np.ndarray | None:
    s = swing(rest_dir, parent_global.T @ direction)
    return None if s is None else parent_global @ s


def solve(
    points: np.ndarray,
    visibility: np.ndarray | None = None,
    offsets: np.ndarray = REST_OFFSETS,
    config: SolverConfig = SolverConfig(),
    fallback: np.ndarray | None = None,
    previous: np.ndarray | None = None,
) -> BodyPose:
    """Bone rotations for one person in one frame.

    points: ``(33, 3)`` landmarks in the rig frame (metres; see module doc), NaN allowed.
    visibility: ``(33,)`` in [0, 1] (``None``: all visible; NaN counts as 0).
    offsets: ``(B, 3)`` the person's rest offsets (rig frame, metres; :mod:`.calibrate`).
    fallback: ``(B, 4)`` local rotations ``(x, y, z, w)`` for bones below
        ``config.min_visibility`` (default identity = rest).
    previous: ``(B, 4)`` last frame's local rotations: the result's signs follow them (no
        ``q`` / ``-q`` flips).
    Returns a :class:`BodyPose` in the frame of ``points``: root_position is the hip centre,
    positions and rotations the forward kinematics of the local rotations with ``offsets``.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (NUM_LANDMARKS, 3):
        raise ValueError(f"points must be ({NUM_LANDMARKS}, 3), got {p.shape}")
    vis = np.ones(NUM_LANDMARKS) if visibility is None else np.asarray(visibility, dtype=np.float64)
    conf = bone_confidence(vis)
    ok = conf >= config.min_visibility
    fb = None if fallback is None else quats_to_matrices(fallback)
    b = BONE_INDEX
    joints = joints_from_landmarks(p)

    # Observed globals that need no parent (None when degenerate).
    hips_visible = bool(min(np.nan_to_num(vis[[L.LEFT_HIP, L.RIGHT_HIP]], nan=0.0)) >= config.min_visibility)
    g_hips, twist = solve_torso(p, hips_visible)
    observed: dict[int, np.ndarray | None] = {b["Hips"]: g_hips, b["Head"]: solve_head(p)}
    for s, S, sx in SIDES:
        hand = solve_hand(p, S, sx) if ok[b[f"{s}Hand"]] else None
        observed[b[f"{s}Hand"]] = hand
        observed[b[f"{s}LowerArm"]] = _aligned_to(hand, sx * X, joints[b[f"{s}Hand"]] - joints[b[f"{s}LowerArm"]])
        foot = solve_foot(p, S) if ok[b[f"{s}Foot"]] else None
        observed[b[f"{s}Foot"]] = foot
        observed[b[f"{s}LowerLeg"]] = _aligned_to(foot, -Y, joints[b[f"{s}Foot"]] - joints[b[f"{s}LowerLeg"]])

    # Parent-first pass: each bone's final global from its observation or the fallback.
    glob = np.zeros((NUM_BONES, 3, 3))
    local = np.zeros((NUM_BONES, 3, 3))
    pos = np.zeros((NUM_BONES, 3))
    pos[0] = joints[0]
    for i in range(NUM_BONES):
        parent = PARENTS[i]
        pg = glob[parent] if parent >= 0 else np.eye(3)
        if parent >= 0:
            pos[i] = pos[parent] + pg @ offsets[i]
        g = _observe(i, p, joints, pos, pg, observed, twist, config) if ok[i] else None
        if g is None:
            g = pg if fb is None else pg @ fb[i]
        glob[i] = g
        local[i] = pg.T @ g
    quats = matrices_to_quats(np.concatenate([local, glob]))
    return BodyPose(
        local_rotations=continuous(quats[:NUM_BONES], previous),
        root_position=joints[0],
        positions=pos,
        offsets=np.asarray(offsets, dtype=np.float64),
        bone_confidence=conf,
        rotations=quats[NUM_BONES:],
    )


_LOWER = frozenset(("LeftLowerArm", "RightLowerArm", "LeftLowerLeg", "RightLowerLeg"))


def _observe(i: int, p: np.ndarray, joints: np.ndarray, pos: np.ndarray, pg: np.ndarray,
             observed: dict, twist: float, cfg: SolverConfig) -> np.ndarray | None:
    """The global rotation of bone ``i`` from landmarks, given its parent's final global
    ``pg`` and the FK joint positions ``pos`` of bones up to ``i``."""
    name = _NAMES[i]
    if i in observed and name not in _LOWER:
        return observed[i]
    if name in ("Spine", "Chest", "UpperChest"):
        return pg @ _ry(twist / 3.0)
    if name == "Neck":
        return _swing_from(pg, Y, joints[BONE_INDEX["Head"]] - joints[BONE_INDEX["Neck"]])
    if name.endswith("Toes"):
        return pg
    side = "Left" if name.startswith("Left") else "Right"
    sx = 1.0 if side == "Left" else -1.0
    S = side.upper()
    part = name[len(side):]
    if part == "Shoulder":
        return _swing_from(pg, sx * X, p[L[f"{S}_SHOULDER"]] - pos[i])
    if part == "UpperArm":
        return solve_limb(p[L[f"{S}_ELBOW"]] - p[L[f"{S}_SHOULDER"]], p[L[f"{S}_WRIST"]] - p[L[f"{S}_ELBOW"]],
                          sx * X, Z, observed.get(BONE_INDEX[f"{side}LowerArm"]), pg, cfg)
    if part == "UpperLeg":
        return solve_limb(p[L[f"{S}_KNEE"]] - p[L[f"{S}_HIP"]], p[L[f"{S}_ANKLE"]] - p[L[f"{S}_KNEE"]],
                          -Y, -Z, observed.get(BONE_INDEX[f"{side}LowerLeg"]), pg, cfg)
    if part in ("LowerArm", "LowerLeg"):
        if observed.get(i) is not None:
            return observed[i]
        rest = sx * X if part == "LowerArm" else -Y
        child = BONE_INDEX[f"{side}Hand"] if part == "LowerArm" else BONE_INDEX[f"{side}Foot"]
        return _swing_from(pg, rest, joints[child] - joints[i])
    return None


_NAMES = tuple(BONE_INDEX)
