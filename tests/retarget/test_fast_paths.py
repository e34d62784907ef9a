"""The stacked (vectorised) retargeting code against straightforward per-bone / per-item
reference implementations written here, on poses that take every branch: noisy landmarks,
unseen bones (fallbacks), NaN landmarks, hips unseen, straight and folded limbs, degenerate
hands. The references are the solver as it was before it was vectorised: one bone at a time,
parent first, ``None`` for an undefined rotation, scipy for the quaternions."""

import math

import numpy as np
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.landmarks import PoseLandmark as L
from arpose.retarget.angles import ANGLE_NAMES, joint_angles
from arpose.retarget.calibrate import (
    _PAIRS,
    REST_SEGMENTS,
    SEGMENTS,
    BoneCalibrator,
    offsets_from_segments,
    segment_samples,
)
from arpose.retarget.geometry import angle_between, frame_rotation, perpendicular, swing, unit
from arpose.retarget.grounding import _percentile_of_sorted
from arpose.retarget.model_poses import random_model_pose
from arpose.retarget.solver import BONE_LANDMARKS, SolverConfig, solve

B = sk.BONE_INDEX
X, Y, Z = np.eye(3)
SIDES = (("Left", "LEFT", 1.0), ("Right", "RIGHT", -1.0))


# ---- the reference: one bone at a time ------------------------------------------------------


def _ry(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _ref_torso(p, ok_hips):
    hc, sc = (p[L.LEFT_HIP] + p[L.RIGHT_HIP]) / 2, (p[L.LEFT_SHOULDER] + p[L.RIGHT_SHOULDER]) / 2
    shoulders = p[L.LEFT_SHOULDER] - p[L.RIGHT_SHOULDER]
    g_hips = frame_rotation(Y, X, sc - hc, p[L.LEFT_HIP] - p[L.RIGHT_HIP] if ok_hips else shoulders)
    g_upper = frame_rotation(Y, X, sc - hc, shoulders)
    if g_hips is None or g_upper is None or not ok_hips:
        return g_hips, 0.0
    rel = g_hips.T @ g_upper
    return g_hips, math.atan2(rel[0, 2], rel[0, 0])


def _aligned(frame, axis, direction):
    if frame is None:
        return None
    s = swing(frame @ axis, direction)
    return None if s is None else s @ frame


def _swing_from(pg, rest, direction):
    s = swing(rest, pg.T @ direction)
    return None if s is None else pg @ s


def _ref_limb(upper, lower, rest_dir, rest_bend, lower_global, pg, cfg):
    d = unit(upper)
    if d is None:
        return None
    bend = perpendicular(lower, d)
    if lower_global is not None:
        fallback = perpendicular(lower_global @ rest_bend, d)
    else:
        s = swing(pg @ rest_dir, d)
        fallback = perpendicular(s @ pg @ rest_bend, d) if s is not None else None
    w = 0.0
    if bend is not None:
        a = angle_between(upper, lower)
        w = (
            0.0
            if not np.isfinite(a)
            else float(np.clip((a - cfg.straight_deg) / (cfg.bent_deg - cfg.straight_deg), 0, 1))
        )
    if fallback is None:
        second = bend
    elif bend is None or w == 0.0:
        second = fallback
    else:
        second = w * bend + (1.0 - w) * fallback
    return None if second is None else frame_rotation(rest_dir, rest_bend, d, second)


def reference_solve(p, vis, offsets, cfg, fallback, previous):
    vis = np.nan_to_num(np.asarray(vis, dtype=np.float64), nan=0.0)
    conf = np.array([vis[list(idx)].min() for idx in BONE_LANDMARKS])
    ok = conf >= cfg.min_visibility
    fb = Rotation.from_quat(fallback).as_matrix()
    joints = sk.joints_from_landmarks(p)
    g_hips, twist = _ref_torso(p, min(vis[L.LEFT_HIP], vis[L.RIGHT_HIP]) >= cfg.min_visibility)
    ec = (p[L.LEFT_EAR] + p[L.RIGHT_EAR]) / 2
    observed = {B["Hips"]: g_hips, B["Head"]: frame_rotation(X, Z, p[L.LEFT_EAR] - p[L.RIGHT_EAR], p[L.NOSE] - ec)}
    for s, S, sx in SIDES:
        lm = {n: p[L[f"{S}_{n}"]] for n in ("WRIST", "INDEX", "PINKY", "HEEL", "FOOT_INDEX", "ANKLE")}
        hand = (
            frame_rotation(sx * X, Z, (lm["INDEX"] + lm["PINKY"]) / 2 - lm["WRIST"], lm["INDEX"] - lm["PINKY"])
            if ok[B[f"{s}Hand"]]
            else None
        )
        foot = (
            frame_rotation(Z, Y, lm["FOOT_INDEX"] - lm["HEEL"], lm["ANKLE"] - lm["HEEL"]) if ok[B[f"{s}Foot"]] else None
        )
        observed[B[f"{s}Hand"]], observed[B[f"{s}Foot"]] = hand, foot
        observed[B[f"{s}LowerArm"]] = _aligned(hand, sx * X, joints[B[f"{s}Hand"]] - joints[B[f"{s}LowerArm"]])
        observed[B[f"{s}LowerLeg"]] = _aligned(foot, -Y, joints[B[f"{s}Foot"]] - joints[B[f"{s}LowerLeg"]])
    glob, local = np.zeros((sk.NUM_BONES, 3, 3)), np.zeros((sk.NUM_BONES, 3, 3))
    pos = np.zeros((sk.NUM_BONES, 3))
    pos[0] = joints[0]
    for i, name in enumerate(sk.BONE_NAMES):
        parent = sk.PARENTS[i]
        pg = glob[parent] if parent >= 0 else np.eye(3)
        if parent >= 0:
            pos[i] = pos[parent] + pg @ offsets[i]
        side = "Left" if name.startswith("Left") else "Right"
        S, sx, part = side.upper(), (1.0 if side == "Left" else -1.0), name[len(side) :]
        g = None
        if not ok[i]:
            pass
        elif name in ("Hips", "Head") or part in ("Hand", "Foot"):
            g = observed[i]
        elif name in ("Spine", "Chest", "UpperChest"):
            g = pg @ _ry(twist / 3.0)
        elif name == "Neck":
            g = _swing_from(pg, Y, joints[B["Head"]] - joints[B["Neck"]])
        elif part == "Toes":
            g = pg
        elif part == "Shoulder":
            g = _swing_from(pg, sx * X, p[L[f"{S}_SHOULDER"]] - pos[i])
        elif part == "UpperArm":
            g = _ref_limb(
                p[L[f"{S}_ELBOW"]] - p[L[f"{S}_SHOULDER"]],
                p[L[f"{S}_WRIST"]] - p[L[f"{S}_ELBOW"]],
                sx * X,
                Z,
                observed[B[f"{side}LowerArm"]],
                pg,
                cfg,
            )
        elif part == "UpperLeg":
            g = _ref_limb(
                p[L[f"{S}_KNEE"]] - p[L[f"{S}_HIP"]],
                p[L[f"{S}_ANKLE"]] - p[L[f"{S}_KNEE"]],
                -Y,
                -Z,
                observed[B[f"{side}LowerLeg"]],
                pg,
                cfg,
            )
        elif part in ("LowerArm", "LowerLeg"):
            g = observed[i]
            if g is None:
                child = B[f"{side}Hand"] if part == "LowerArm" else B[f"{side}Foot"]
                g = _swing_from(pg, sx * X if part == "LowerArm" else -Y, joints[child] - joints[i])
        if g is None:
            g = pg @ fb[i]
        glob[i], local[i] = g, pg.T @ g
    q = Rotation.from_matrix(np.concatenate([local, glob])).as_quat()
    loc = q[: sk.NUM_BONES].copy()
    loc[np.sum(loc * previous, axis=1) < 0] *= -1.0
    return loc, q[sk.NUM_BONES :], pos, conf


# ---- the cases -------------------------------------------------------------------------------


def _cases(n=60):
    """(points, visibility, offsets, fallback, previous) covering the solver's branches."""
    rng = np.random.default_rng(21)
    for k in range(n):
        height = rng.uniform(1.5, 1.9)
        q = random_model_pose(rng)
        if k % 7 == 0:  # a straight arm and leg: twist from the hand / foot frame
            q[B["LeftLowerArm"]] = q[B["RightLowerLeg"]] = [0.0, 0.0, 0.0, 1.0]
        if k % 10 == 3:  # a straight right arm without a hand frame: twist from the clavicle
            q[B["RightLowerArm"]] = [0.0, 0.0, 0.0, 1.0]
        if k % 11 == 0:  # an arm folded back on itself
            q[B["RightLowerArm"]] = Rotation.from_euler("y", 179.9999, degrees=True).as_quat()
        offsets = sk.scaled_offsets(height)
        pos, rot = sk.forward_kinematics(q, rng.normal(size=3), offsets)
        p = sk.markers_from_pose(pos, rot, scale=height / 1.72) + rng.normal(scale=0.01 * (k % 3), size=(33, 3))
        vis = np.ones(33)
        if k % 4 == 1:
            vis[rng.choice(33, size=6, replace=False)] = rng.uniform(0.0, 0.6, size=6)
        if k % 9 == 2:
            vis[[L.LEFT_HIP, L.RIGHT_HIP]] = 0.2  # upper-body shot
        if k % 10 == 3:
            p[L.RIGHT_PINKY] = p[L.RIGHT_INDEX]  # degenerate hand (see above)
        if k % 13 == 4:
            p[rng.integers(33)] = np.nan  # a missing landmark
            vis[rng.integers(33)] = np.nan
        fallback = Rotation.random(sk.NUM_BONES, random_state=k).as_quat()
        previous = Rotation.random(sk.NUM_BONES, random_state=100 + k).as_quat()
        yield p, vis, offsets, fallback, previous


def test_stacked_solver_equals_the_per_bone_reference():
    cfg = SolverConfig()
    worst = 0.0
    for p, vis, offsets, fallback, previous in _cases():
        body = solve(p, vis, offsets, cfg, fallback, previous)
        loc, glob, pos, conf = reference_solve(p, vis, offsets, cfg, fallback, previous)
        assert np.array_equal(body.bone_confidence, conf)
        assert np.array_equal(np.isnan(body.positions), np.isnan(pos))
        worst = max(
            worst,
            np.abs(body.local_rotations - loc).max(),
            np.abs(body.rotations - glob).max(),
            np.nan_to_num(np.abs(body.positions - pos)).max(),
        )
    assert worst < 1e-9


def test_joint_angles_equal_the_per_angle_reference():
    def reference(p, vis, min_vis=0.5, up=Y):
        vis = np.nan_to_num(vis, nan=0.0)
        seen = lambda *lms: bool(np.all(vis[list(lms)] >= min_vis))  # noqa: E731
        out = {}
        for s in ("LEFT", "RIGHT"):
            n = s.lower()
            for j, (v, a, b) in (("elbow", ("ELBOW", "SHOULDER", "WRIST")), ("knee", ("KNEE", "HIP", "ANKLE"))):
                v, a, b = L[f"{s}_{v}"], L[f"{s}_{a}"], L[f"{s}_{b}"]
                out[f"{n}_{j}"] = angle_between(p[a] - p[v], p[b] - p[v]) if seen(v, a, b) else np.nan
        torso = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP)
        trunk = (p[L.LEFT_SHOULDER] + p[L.RIGHT_SHOULDER] - p[L.LEFT_HIP] - p[L.RIGHT_HIP]) / 2
        for s in ("LEFT", "RIGHT"):
            sh, el, hip, knee = (L[f"{s}_{x}"] for x in ("SHOULDER", "ELBOW", "HIP", "KNEE"))
            out[f"{s.lower()}_shoulder"] = angle_between(p[el] - p[sh], -trunk) if seen(*torso, el) else np.nan
            out[f"{s.lower()}_hip"] = angle_between(p[knee] - p[hip], trunk) if seen(*torso, knee) else np.nan
        ok = seen(*torso)
        out["spine_bend"] = angle_between(trunk, up) if ok else np.nan
        out["spine_twist"] = math.degrees(_ref_torso(p, True)[1]) if ok else np.nan
        return np.array([out[n] for n in ANGLE_NAMES])

    for p, vis, *_ in _cases(40):
        got = np.array([joint_angles(p, vis)[n] for n in ANGLE_NAMES])
        want = reference(p, vis)
        assert np.array_equal(np.isnan(got), np.isnan(want))
        assert np.nan_to_num(np.abs(got - want)).max() < 1e-9


def _reference_offsets(segments):
    k = {}
    for name in SEGMENTS:
        v = segments.get(name, float("nan"))
        k[name] = v / REST_SEGMENTS[name] if np.isfinite(v) and v > 0 else np.nan
    known = [v for v in k.values() if np.isfinite(v)]
    overall = float(np.median(known)) if known else 1.0
    k = {n: (v if np.isfinite(v) else overall) for n, v in k.items()}
    off, end = sk.REST_OFFSETS.copy(), sk.END_OFFSETS.copy()
    off[B["Hips"]] *= overall
    for name in ("Spine", "Chest", "UpperChest", "Neck"):
        off[B[name]] *= k["torso"]
    off[B["Head"]] *= k["neck"]
    end[B["Head"]] *= overall
    for s in ("Left", "Right"):
        off[B[f"{s}Shoulder"]] *= np.array([k["shoulder_half"], k["torso"], 1.0])
        for bone, seg in (
            ("UpperArm", "shoulder_half"),
            ("LowerArm", "upper_arm"),
            ("Hand", "forearm"),
            ("UpperLeg", "hip_half"),
            ("LowerLeg", "thigh"),
            ("Foot", "shin"),
            ("Toes", "foot"),
        ):
            off[B[f"{s}{bone}"]] *= k[seg]
        end[B[f"{s}Hand"]] *= k["hand"]
        end[B[f"{s}Toes"]] *= k["toe"]
    return off, end


def test_calibration_tables_equal_the_per_segment_reference():
    cal = BoneCalibrator()
    samples: dict[str, list[float]] = {}
    for k, (p, vis, *_) in enumerate(_cases(30)):
        want: dict[str, list[float]] = {}
        v = np.nan_to_num(vis, nan=0.0)
        for seg, pairs in _PAIRS.items():
            for a, b, f in pairs:
                d = f * float(np.linalg.norm(a @ p - b @ p))
                if not np.any(v[(a != 0) | (b != 0)] < 0.5) and np.isfinite(d) and d > 0:
                    want.setdefault(seg, []).append(d)
        got = segment_samples(p, vis)
        assert got.keys() == want.keys()
        for seg in want:
            assert np.allclose(got[seg], want[seg], rtol=0, atol=1e-12)
            samples.setdefault(seg, []).extend(want[seg])
        cal.update(p, vis, k / 30)
    assert cal.segments.keys() == samples.keys()
    assert all(abs(cal.segments[s] - np.median(v)) < 1e-12 for s, v in samples.items())
    rng = np.random.default_rng(22)
    for drop in ((), ("toe",), ("torso", "hand", "shin"), tuple(SEGMENTS)):
        segments = {s: v * rng.uniform(0.8, 1.2) for s, v in cal.segments.items() if s not in drop}
        segments["neck"] = float("nan") if "neck" in drop else segments.get("neck", 0.1)
        for got, want in zip(offsets_from_segments(segments), _reference_offsets(segments)):
            assert np.array_equal(np.isnan(got), np.isnan(want)) and np.nanmax(np.abs(got - want)) < 1e-15


def test_floor_percentile_of_a_sorted_window_equals_numpy():
    rng = np.random.default_rng(23)
    for n in (1, 2, 3, 10, 121, 240):
        a = sorted(rng.normal(size=n).tolist())
        for q in (0.0, 10.0, 50.0, 99.0, 100.0):
            assert abs(_percentile_of_sorted(a, q) - np.percentile(a, q)) < 1e-12
