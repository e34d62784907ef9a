"""Landmarks to bone rotations: :func:`solve`, one pure function per person and frame.

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
* Computation: every landmark direction is one row of ``weights @ points``; bones are solved
  group by group, parents first, each group one stack of ``(N, 3, 3)`` matrices with NaN rows
  where a rotation is undefined (see :func:`solve`). ``tests/retarget/test_fast_paths.py``
  holds a one-bone-at-a-time reference it is checked against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..landmarks import NUM_LANDMARKS
from ..landmarks import PoseLandmark as L
from ..skeleton import BONE_INDEX, JOINT_WEIGHTS, MP_TO_RIG, NUM_BONES, PARENTS, REST_OFFSETS
from .body import BodyPose
from .geometry import (
    bases,
    continuous,
    cross,
    dots,
    frame_rotations,
    matrices_to_quats,
    perpendiculars,
    quats_to_matrices,
    swings,
    unit_bases,
    units,
)

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
        "Hips": torso,
        "Spine": torso,
        "Chest": torso,
        "UpperChest": torso,
        "Neck": torso + (L.LEFT_EAR, L.RIGHT_EAR),
        "Head": (L.LEFT_EAR, L.RIGHT_EAR, L.NOSE),
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


#: ``(B, k)``: :data:`BONE_LANDMARKS` as one index array (short rows padded by repeats).
_USES = np.array([idx + (idx[0],) * (max(map(len, BONE_LANDMARKS)) - len(idx)) for idx in BONE_LANDMARKS])


def visibility_or_zero(visibility: np.ndarray) -> np.ndarray:
    """``(...)`` visibility as float64 with NaN (not measured) replaced by 0."""
    v = np.asarray(visibility, dtype=np.float64)
    return np.where(np.isnan(v), 0.0, v)


def bone_confidence(visibility: np.ndarray) -> np.ndarray:
    """``(B,)`` in [0, 1]: the lowest visibility among the landmarks each bone uses (NaN -> 0)."""
    return visibility_or_zero(visibility)[_USES].min(axis=1)


# ---- Import-time tables: every per-frame quantity is one row of a stacked array. ----------

_EYE = np.eye(NUM_LANDMARKS)
_B = BONE_INDEX


def _lm(name: str) -> np.ndarray:
    """Weights ``(33,)`` picking one landmark."""
    return _EYE[L[name]]


def _mid(a: str, b: str) -> np.ndarray:
    return (_lm(a) + _lm(b)) / 2


_HIP_C, _SHOULDER_C, _EAR_C = (
    _mid("LEFT_HIP", "RIGHT_HIP"),
    _mid("LEFT_SHOULDER", "RIGHT_SHOULDER"),
    _mid("LEFT_EAR", "RIGHT_EAR"),
)

#: Parent-free frames (rows): Hips, the shoulder line (for the spine twist), Head, then the
#: hands and feet in limb order. Rest pair (primary, second axis) and the landmark weights of
#: the observed pair (``weights @ points`` is the direction).
_FRAME_REST = bases(np.array([Y, Y, X, X, -X, Z, Z]), np.array([X, X, Z, Z, Z, Y, Y]))
_FRAME_PRIMARY = np.array(
    [_SHOULDER_C - _HIP_C, _SHOULDER_C - _HIP_C, _lm("LEFT_EAR") - _lm("RIGHT_EAR")]
    + [_mid(f"{S}_INDEX", f"{S}_PINKY") - _lm(f"{S}_WRIST") for S in ("LEFT", "RIGHT")]
    + [_lm(f"{S}_FOOT_INDEX") - _lm(f"{S}_HEEL") for S in ("LEFT", "RIGHT")]
)
_FRAME_SECOND = np.array(
    [_lm("LEFT_HIP") - _lm("RIGHT_HIP"), _lm("LEFT_SHOULDER") - _lm("RIGHT_SHOULDER"), _lm("NOSE") - _EAR_C]
    + [_lm(f"{S}_INDEX") - _lm(f"{S}_PINKY") for S in ("LEFT", "RIGHT")]
    + [_lm(f"{S}_ANKLE") - _lm(f"{S}_HEEL") for S in ("LEFT", "RIGHT")]
)
_HIPS, _SHOULDER_LINE, _HEAD = 0, 1, 2

#: The four limbs (rows): left arm, right arm, left leg, right leg. Bones, the upper bone's
#: parent, rest directions of upper and lower bone (the same), the rest bend direction, and
#: the landmark weights of the observed upper and lower bone directions.
_LIMBS = (("Left", "Arm"), ("Right", "Arm"), ("Left", "Leg"), ("Right", "Leg"))
_UPPER = np.array([_B[f"{s}Upper{k}"] for s, k in _LIMBS])
_LOWER = np.array([_B[f"{s}Lower{k}"] for s, k in _LIMBS])
_END = np.array([_B[f"{s}{'Hand' if k == 'Arm' else 'Foot'}"] for s, k in _LIMBS])
_UPPER_PARENT = PARENTS[_UPPER]
_LIMB_REST_DIR = np.array([X, -X, -Y, -Y])
_LIMB_REST_BEND = np.array([Z, Z, -Z, -Z])
_LIMB_REST = bases(_LIMB_REST_DIR, _LIMB_REST_BEND)
_LIMB_LMS = [("SHOULDER", "ELBOW", "WRIST") if k == "Arm" else ("HIP", "KNEE", "ANKLE") for _, k in _LIMBS]
_UPPER_DIR = np.array(
    [_lm(f"{s.upper()}_{m}") - _lm(f"{s.upper()}_{a}") for (s, _), (a, m, _e) in zip(_LIMBS, _LIMB_LMS)]
)
_LOWER_DIR = np.array(
    [_lm(f"{s.upper()}_{e}") - _lm(f"{s.upper()}_{m}") for (s, _), (_a, m, e) in zip(_LIMBS, _LIMB_LMS)]
)
_TOES = np.array([_B["LeftToes"], _B["RightToes"]])

#: Neck and clavicles: swings from UpperChest (rest directions).
_SWUNG = np.array([_B["Neck"], _B["LeftShoulder"], _B["RightShoulder"]])
_SWUNG_REST = np.array([Y, X, -X])
_CLAVICLE_LMS = np.array([L.LEFT_SHOULDER, L.RIGHT_SHOULDER])

#: Every landmark direction of a frame as one matrix product: ``_DIRECTIONS @ points``.
_DIRECTIONS = np.concatenate([_FRAME_PRIMARY, _FRAME_SECOND, _UPPER_DIR, _LOWER_DIR])
_N_FRAMES = len(_FRAME_PRIMARY)
#: Torso only: up (hip centre -> shoulder centre), hip line, shoulder line.
_TORSO_DIRECTIONS = np.array([_FRAME_PRIMARY[_HIPS], _FRAME_SECOND[_HIPS], _FRAME_SECOND[_SHOULDER_LINE]])
_SPINE = tuple(_B[n] for n in ("Spine", "Chest", "UpperChest"))
assert _SPINE == (1, 2, 3) and tuple(PARENTS[list(_SPINE)]) == (0, 1, 2)  # a chain from the Hips

_ROOT = np.array([0])

#: ``(B, B)``: ``_PATHS[i, j] = 1`` for the bones ``j`` on the way from the root (excluded) to
#: ``i`` (included): forward kinematics is ``root + _PATHS @ (parent_global @ offset)``.
_PATHS = np.zeros((NUM_BONES, NUM_BONES))
for _i in range(NUM_BONES):
    _j = _i
    while _j > 0:
        _PATHS[_i, _j] = 1.0
        _j = PARENTS[_j]


def landmark_combinations(weights: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``weights @ points`` (``(N, 33) @ (33, 3)``: directions or points made of landmarks,
    e.g. ``elbow - shoulder``), with NaN rows exactly where a landmark a row uses (non-zero
    weight) is NaN; other rows stay finite."""
    missing = np.isnan(points).any(axis=1)
    if not missing.any():
        return weights @ points
    out = weights @ np.where(missing[:, None], 0.0, points)
    out[(weights != 0) @ missing] = np.nan
    return out


def _landmark_directions(p: np.ndarray) -> np.ndarray:
    """``(len(_DIRECTIONS), 3)``: :func:`landmark_combinations` of :data:`_DIRECTIONS`."""
    return landmark_combinations(_DIRECTIONS, p)


def _valid(m: np.ndarray) -> np.ndarray:
    """``(N,)``: which of ``(N, 3, 3)`` matrices hold no NaN."""
    return ~np.isnan(m).any(axis=(-2, -1))


def _matvecs(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``m[n] @ v[n]`` for ``(N, 3, 3)`` and ``(N, 3)``."""
    return np.einsum("nij,nj->ni", m, v)


def _twist(g_hips: np.ndarray, g_upper: np.ndarray) -> float:
    """The angle about Y (radians) of ``g_hips.T @ g_upper`` (0 if either is NaN)."""
    c = float(g_hips[:, 0] @ g_upper[:, 0])
    s = float(g_hips[:, 0] @ g_upper[:, 2])
    return math.atan2(s, c) if np.isfinite(c) and np.isfinite(s) else 0.0


def _ry(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def solve_torso(p: np.ndarray, ok_hips: bool) -> tuple[np.ndarray | None, float]:
    """Hips global rotation (matrix) and the hip-to-shoulder twist (radians, about the
    torso axis, positive turns the shoulders towards the subject's left).

    p: ``(33, 3)`` rig-frame landmarks. ok_hips: whether the hips are visible; without them
    the shoulder line gives the Hips' second axis and the twist is 0.
    """
    d = landmark_combinations(_TORSO_DIRECTIONS, np.asarray(p, dtype=np.float64))
    g = frame_rotations(_FRAME_REST[:2], d[[0, 0]], d[[1, 2]] if ok_hips else d[[2, 2]])
    g_hips = None if np.isnan(g[0]).any() else g[0]
    return g_hips, (_twist(g[0], g[1]) if ok_hips else 0.0)


def solve_limbs(
    upper_dir: np.ndarray,
    lower_dir: np.ndarray,
    lower_global: np.ndarray,
    parent_global: np.ndarray,
    rest_dir: np.ndarray,
    rest_bend: np.ndarray,
    rest_bases: np.ndarray,
    cfg: SolverConfig,
) -> np.ndarray:
    """Global rotations ``(N, 3, 3)`` of upper limb bones (UpperArm, UpperLeg), NaN where
    undefined.

    upper_dir, lower_dir: ``(N, 3)`` observed directions of the upper and lower bone (rig
    frame). lower_global: ``(N, 3, 3)`` the lower bone's global rotation (NaN if unknown; used
    when the limb is straight). parent_global: ``(N, 3, 3)`` the parent's final global rotation
    (used when the limb is straight and ``lower_global`` is unknown). rest_dir: ``(N, 3)`` the
    upper bone's rest direction; rest_bend: ``(N, 3)`` the direction the lower bone bends
    towards at rest (+Z for elbows, -Z for knees); rest_bases: ``bases(rest_dir, rest_bend)``.
    The second axis is the bend plane for a bent limb, the lower bone's (else the parent's)
    frame for a straight one, blended in between (:class:`SolverConfig`).
    """
    n = len(upper_dir)
    u = units(np.concatenate([upper_dir, lower_dir]))
    d, lower_unit = u[:n], u[n:]
    perp = perpendiculars(np.concatenate([lower_dir, _matvecs(lower_global, rest_bend)]), np.concatenate([d, d]))
    bend, twist_ref = perp[:n], perp[n:]
    no_lower = ~_valid(lower_global)
    if no_lower.any():
        s = swings(_matvecs(parent_global, rest_dir), d)
        from_parent = perpendiculars(_matvecs(s @ parent_global, rest_bend), d)
        twist_ref = np.where(no_lower[:, None], from_parent, twist_ref)
    c = cross(d, lower_unit)
    bend_deg = np.degrees(np.arctan2(np.sqrt(dots(c, c)), dots(d, lower_unit)))  # 0 = straight
    bend_ok = ~np.isnan(bend).any(axis=1)
    w = np.clip((bend_deg - cfg.straight_deg) / (cfg.bent_deg - cfg.straight_deg), 0.0, 1.0)
    w = np.where(bend_ok, w, 0.0)[:, None]
    ref_ok = ~np.isnan(twist_ref).any(axis=1)[:, None]
    second = np.where(
        ref_ok, np.where(bend_ok[:, None] & (w != 0.0), w * bend + (1.0 - w) * twist_ref, twist_ref), bend
    )
    return unit_bases(d, second) @ np.swapaxes(rest_bases, -1, -2)  # frame_rotations, d already unit


def _fallback_globals(parent_global: np.ndarray, fallback: np.ndarray | None, bones: np.ndarray) -> np.ndarray:
    """``(N, 3, 3)``: the parents' globals (``(N, 3, 3)``, or one ``(3, 3)`` shared by all
    ``N`` bones) times the fallback local rotations of ``bones`` (the parents' globals without a
    fallback: the bones keep their parents' orientation, i.e. identity local rotations)."""
    if fallback is None:
        return np.broadcast_to(parent_global, (len(bones), 3, 3))
    return parent_global @ quats_to_matrices(fallback[bones])


def _choose(
    observed: np.ndarray,
    ok: np.ndarray,
    all_ok: bool,
    parent_global: np.ndarray,
    fallback: np.ndarray | None,
    bones: np.ndarray,
) -> np.ndarray:
    """Final globals ``(N, 3, 3)`` of ``bones``: ``observed`` (NaN where undefined) where the
    bone is seen (``ok``: ``(B,)``; ``all_ok``: ``ok.all()``) and defined, else
    :func:`_fallback_globals` (fallback: ``(B, 4)`` quaternions or ``None``)."""
    if all_ok and not np.isnan(observed).any():
        return observed
    use = ok[bones] & _valid(observed)
    return np.where(use[:, None, None], observed, _fallback_globals(parent_global, fallback, bones))


def _spine_turns(twist: float) -> np.ndarray:
    """``(3, 3, 3)``: turns about Y by 1/3, 2/3 and all of ``twist`` (radians): the spine
    bones' globals relative to the Hips when each takes a third of the twist."""
    turns = []
    for k in (1, 2, 3):
        c, s = math.cos(k * twist / 3.0), math.sin(k * twist / 3.0)
        turns.append([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return np.array(turns)


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

    The bones are solved group by group, parents first, each group as one stack of
    ``(N, 3, 3)`` matrices: Hips and spine; Neck and clavicles; Head; upper limbs; lower
    limbs; hands and feet; toes.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (NUM_LANDMARKS, 3):
        raise ValueError(f"points must be ({NUM_LANDMARKS}, 3), got {p.shape}")
    vis = np.ones(NUM_LANDMARKS) if visibility is None else visibility_or_zero(visibility)
    offsets = np.asarray(offsets, dtype=np.float64)
    conf = vis[_USES].min(axis=1)  # bone_confidence (vis has no NaN)
    ok = conf >= config.min_visibility
    all_ok = bool(ok.all())
    fb = None if fallback is None else np.asarray(fallback, dtype=np.float64)
    joints = JOINT_WEIGHTS @ p  # joints_from_landmarks (NaN anywhere: NaN joints)
    d = _landmark_directions(p)
    b = _B

    # Observed globals that need no parent (NaN rows when degenerate or unseen).
    hips_visible = bool(min(vis[L.LEFT_HIP], vis[L.RIGHT_HIP]) >= config.min_visibility)
    second = d[_N_FRAMES : 2 * _N_FRAMES]
    if not hips_visible:
        second[_HIPS] = second[_SHOULDER_LINE]
    frames = frame_rotations(_FRAME_REST, d[:_N_FRAMES], second)
    twist = _twist(frames[_HIPS], frames[_SHOULDER_LINE]) if hips_visible else 0.0
    ends = frames[3:]  # hands and feet, limb order
    ends[~ok[_END]] = np.nan

    # Hips and spine (the hip-to-shoulder twist split evenly), with the UpperChest's position.
    glob = np.empty((NUM_BONES, 3, 3))
    use = ok[:4].copy()
    use[0] &= not np.isnan(frames[_HIPS, 0, 0])
    glob[0] = frames[_HIPS] if use[0] else _fallback_globals(np.eye(3), fb, _ROOT)[0]
    if use[1:].all():  # the usual case: the three spine bones in one product
        glob[1:4] = glob[0] @ _spine_turns(twist)
    else:
        ry = _ry(twist / 3.0)
        for i in _SPINE:
            pg = glob[PARENTS[i]]
            glob[i] = pg @ ry if use[i] else _fallback_globals(pg, fb, np.array([i]))[0]
    pos_uc = joints[0] + _matvecs(glob[:3], offsets[1:4]).sum(axis=0)

    # One stack of swings: lower arms / legs (the hand's / foot's frame turned onto the bone,
    # no extra twist), then Neck and clavicles (the smallest turn from UpperChest).
    pg = glob[_SPINE[-1]]
    joint_dirs = joints[_END] - joints[_LOWER]  # lower limb bones' directions
    swung_dirs = np.concatenate(
        [(joints[b["Head"]] - joints[b["Neck"]])[None], p[_CLAVICLE_LMS] - (pos_uc + offsets[_SWUNG[1:]] @ pg.T)]
    )
    sw = swings(
        np.concatenate([_matvecs(ends, _LIMB_REST_DIR), _SWUNG_REST]), np.concatenate([joint_dirs, swung_dirs @ pg])
    )
    aligned = sw[:4] @ ends
    observed = pg @ sw[4:]
    glob[_SWUNG] = _choose(observed, ok, all_ok, pg, fb, _SWUNG)

    head = b["Head"]
    use_head = ok[head] and not np.isnan(frames[_HEAD, 0, 0])
    glob[head] = frames[_HEAD] if use_head else _fallback_globals(glob[PARENTS[head]], fb, np.array([head]))[0]

    pg = glob[_UPPER_PARENT]
    observed = solve_limbs(
        d[2 * _N_FRAMES : 2 * _N_FRAMES + 4],
        d[2 * _N_FRAMES + 4 :],
        aligned,
        pg,
        _LIMB_REST_DIR,
        _LIMB_REST_BEND,
        _LIMB_REST,
        config,
    )
    glob[_UPPER] = _choose(observed, ok, all_ok, pg, fb, _UPPER)

    pg = glob[_UPPER]
    observed = aligned
    unaligned = ~_valid(aligned)
    if unaligned.any():  # no hand / foot frame: the smallest turn from the upper bone
        swung = pg @ swings(_LIMB_REST_DIR, np.einsum("nji,nj->ni", pg, joint_dirs))
        observed = np.where(unaligned[:, None, None], swung, aligned)
    glob[_LOWER] = _choose(observed, ok, all_ok, pg, fb, _LOWER)

    pg = glob[_LOWER]
    glob[_END] = _choose(ends, ok, all_ok, pg, fb, _END)
    pg = glob[PARENTS[_TOES]]
    glob[_TOES] = _choose(pg, ok, all_ok, pg, fb, _TOES)  # toe flexion is not observed

    parent_glob = np.concatenate([glob, np.eye(3)[None]])[PARENTS]  # PARENTS[0] = -1: identity
    local = np.swapaxes(parent_glob, 1, 2) @ glob
    pos = joints[0] + _PATHS @ _matvecs(parent_glob, offsets)
    quats = matrices_to_quats(np.concatenate([local, glob]))
    return BodyPose(
        local_rotations=continuous(quats[:NUM_BONES], previous),
        root_position=joints[0],
        positions=pos,
        offsets=offsets,
        bone_confidence=conf,
        rotations=quats[NUM_BONES:],
    )
