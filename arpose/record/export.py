"""Exports of recorded motion: one person's body track (with the finger bones when it has
hands) to BVH (with resampling to a constant frame rate), and takes to the landmark CSV of
``arpose run --csv`` plus a joint-angle CSV and the hands and face CSV.

Hands and face are exported as recorded (the take's ``fingers`` and landmarks), never solved
again, unless ``arpose export --smooth offline`` re-runs the stages.

The same functions serve ``arpose export TAKE`` and ``arpose run INPUT --bvh OUT.bvh``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from ..errors import InputError
from ..retarget.body import BodyPose
from ..retarget.fingers import HandsPose
from ..skeleton import NUM_BONES, NUM_FINGER_BONES, forward_kinematics
from .bvh import skeleton_bvh_text, write_text_atomic
from .csv_landmarks import CsvWriter, hands_face_path
from .output import CsvOutput, check_writable
from .take import Take

#: A frame counts as on the nominal grid when its time is within this fraction of a frame
#: interval of ``t0 + k / fps``; otherwise the track is resampled.
GRID_TOLERANCE = 0.05

ANGLE_COLUMNS = ("frame", "time_s", "person", "angle", "degrees")

#: The most frames :func:`resample` makes (10 hours at 30 fps; about 1.3 GB of rotations and
#: positions): a longer span means broken timestamps, refused before memory runs out.
MAX_RESAMPLED_FRAMES = 1_080_000


@dataclass(frozen=True)
class BodyTrack:
    """One person's body poses over time (frames without a usable pose left out).

    times: ``(F,)`` seconds, increasing. local_rotations: ``(F, B, 4)`` ``(x, y, z, w)``
    (see :class:`BodyPose`). root_positions: ``(F, 3)`` metres, Hips in the camera-attached
    rig frame. positions: ``(F, B, 3)`` metres, global joints (the BodyPoses' own).
    offsets: ``(B, 3)`` rest offsets, metres: the last frame's (the per-person calibration
    converges over the first seconds of a take, then stays constant; frames before that keep
    their rotations on the final bone lengths).
    floor_height: the floor's Y in the same frame (median of the poses' estimates), NaN if
    none was estimated.
    finger_rotations: ``(F, 30, 4)`` local rotations ``(x, y, z, w)`` of the finger bones
    (:data:`arpose.skeleton.FINGER_BONES` order, identity = the rest hand; see
    :func:`finger_track`), or None when the recording has no hands (a body-only BVH).
    """

    times: np.ndarray
    local_rotations: np.ndarray
    root_positions: np.ndarray
    positions: np.ndarray
    offsets: np.ndarray
    floor_height: float = float("nan")
    finger_rotations: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.times.shape[0])


def finger_track(hands: Sequence[HandsPose | None]) -> np.ndarray:
    """``(F, 30, 4)`` finger local rotations ``(x, y, z, w)`` for a BVH from each frame's
    ``Person.fingers`` (:class:`~arpose.retarget.fingers.HandsPose` or None). A hand not seen
    keeps the rotations it had when last seen (so a hand that drops out for a few frames does
    not flick open); before it is first seen it is the rest hand (identity)."""
    last = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_FINGER_BONES, 1))
    half = NUM_FINGER_BONES // 2
    out = np.empty((len(hands), NUM_FINGER_BONES, 4))
    for k, hp in enumerate(hands):
        if hp is not None:
            for side in (0, 1):
                rows = slice(side * half, (side + 1) * half)
                if bool(hp.seen[side]) and np.all(np.isfinite(hp.local_rotations[rows])):
                    last[rows] = hp.local_rotations[rows]
        out[k] = last
    return out


def body_track(
    samples: Iterable[tuple[float, BodyPose | None] | tuple[float, BodyPose | None, HandsPose | None]],
    what: str = "the recording",
) -> BodyTrack:
    """A :class:`BodyTrack` from ``(timestamp, BodyPose or None)`` pairs, or
    ``(timestamp, BodyPose or None, HandsPose or None)`` triples (``Person.fingers``): when
    any frame has fingers the track holds them (:func:`finger_track`).

    Frames with no pose, a non-finite root position or non-finite rotations are left out
    (the BVH interpolates across them). Raises :class:`InputError` if no frame is usable.
    """
    times, rots, roots, poss, offs, floors = [], [], [], [], [], []
    hands, kept = [], []  # every frame's fingers (a hand seen while the body is not still counts)
    last_t = -math.inf
    for k, sample in enumerate(samples):
        t, body = sample[0], sample[1]
        hands.append(sample[2] if len(sample) > 2 else None)
        if body is None or not math.isfinite(t) or t <= last_t:
            continue
        q = np.asarray(body.local_rotations, dtype=np.float64)
        r = np.asarray(body.root_position, dtype=np.float64)
        if not (np.all(np.isfinite(q)) and np.all(np.isfinite(r))):
            continue
        times.append(t)
        rots.append(q)
        roots.append(r)
        poss.append(np.asarray(body.positions, dtype=np.float64))
        offs.append(np.asarray(body.offsets, dtype=np.float64))
        floors.append(float(getattr(body, "floor_height", math.nan)))
        kept.append(k)
        last_t = t
    if not times:
        raise InputError(
            f"{what} holds no retargeted body pose to export as BVH "
            f"(record with retargeting on, and check that a person was found)"
        )
    return BodyTrack(
        times=np.asarray(times),
        local_rotations=np.stack(rots),
        root_positions=np.stack(roots),
        positions=np.stack(poss),
        offsets=offs[-1],  # the calibration the person converged to
        floor_height=float(np.nanmedian(floors)) if np.any(np.isfinite(floors)) else math.nan,
        finger_rotations=finger_track(hands)[kept] if any(h is not None for h in hands) else None,
    )


#: Origins a BVH can be written in: ``camera`` keeps the take's camera-attached rig frame
#: (the BodyPoses' own positions); ``floor`` moves the floor to Y = 0 and the first frame's
#: Hips to X = Z = 0 (a pure translation: the motion is unchanged).
ORIGINS = ("camera", "floor")


def floor_origin(track: BodyTrack) -> np.ndarray:
    """``(3,)`` the point of the track's frame that ``--origin floor`` moves to the origin:
    the first Hips position over the floor. The floor is the poses' estimate, else the
    lowest toe joints (5th percentile over frames) less the rest height of the toe joint."""
    from ..skeleton import BONE_INDEX

    floor = track.floor_height
    if not math.isfinite(floor):
        toes = track.positions[:, [BONE_INDEX["LeftToes"], BONE_INDEX["RightToes"]], 1].min(axis=1)
        toe_rest = _toe_rest_height(track.offsets)
        floor = float(np.percentile(toes, 5)) - toe_rest
    x, _, z = track.root_positions[0]
    return np.array([x, floor, z])


def _toe_rest_height(offsets: np.ndarray) -> float:
    """Height of the toe joint over the floor at rest (metres): the default skeleton's,
    scaled by the person's leg length (knee, ankle and toe offsets) over the default's."""
    from ..skeleton import BONE_INDEX, REST_OFFSETS, rest_pose

    legs = [BONE_INDEX[n] for n in ("LeftLowerLeg", "LeftFoot", "LeftToes")]
    scale = float(offsets[legs, 1].sum() / REST_OFFSETS[legs, 1].sum())
    return float(rest_pose()[0][BONE_INDEX["LeftToes"], 1]) * (scale if math.isfinite(scale) and scale > 0 else 1.0)


def translated(track: BodyTrack, shift: np.ndarray) -> BodyTrack:
    """The track moved by ``-shift`` (metres): root and joint positions and the floor."""
    shift = np.asarray(shift, dtype=np.float64)
    return BodyTrack(
        track.times,
        track.local_rotations,
        track.root_positions - shift,
        track.positions - shift,
        track.offsets,
        track.floor_height - shift[1],
        track.finger_rotations,
    )


def take_body_track(take: Take, person: int | None = None) -> tuple[int, BodyTrack]:
    """The body track of ``person`` (an id; default: the id with the most body poses).
    Returns ``(person id, track)``. Raises :class:`InputError` if there is none."""
    ids = take.person_ids
    if not ids:
        raise InputError(f"take {take.path} holds no person (nothing to export)")
    pid = ids[0] if person is None else int(person)
    if pid not in ids:
        raise InputError(f"take {take.path} has no person {pid} (people in it: {', '.join(map(str, sorted(ids)))})")
    people = [next((p for p in f.people if p.id == pid), None) for f in take.frames]
    if any(p is not None and p.fingers is not None for p in people):
        samples: Iterable[tuple] = (
            (f.timestamp, p.body, p.fingers) if p is not None else (f.timestamp, None, None)
            for f, p in zip(take.frames, people)
        )
    else:
        samples = ((f.timestamp, p.body if p is not None else None) for f, p in zip(take.frames, people))
    return pid, body_track(samples, what=f"take {take.path} (person {pid})")


def on_grid(times: np.ndarray, fps: float, tolerance: float = GRID_TOLERANCE) -> bool:
    """True if ``times`` are ``t0 + k / fps`` for consecutive ``k`` (within ``tolerance`` of a
    frame interval): the track can be written as is."""
    if times.size < 2:
        return True
    k = np.arange(times.size)
    return bool(np.max(np.abs(times - times[0] - k / fps)) <= tolerance / fps)


def resample(track: BodyTrack, fps: float) -> BodyTrack:
    """The track at a constant ``fps`` from its first to its last time: rotations by slerp
    (per bone), the root position linearly; joint positions are the forward kinematics of
    those. Returns a new track. Raises :class:`InputError` for a bad ``fps`` or a span that
    would need more than :data:`MAX_RESAMPLED_FRAMES` frames."""
    if not (math.isfinite(fps) and fps > 0):
        raise InputError(f"--fps must be a positive number, got {fps}")
    t = track.times
    if t.size < 2:
        return track
    span = float(t[-1] - t[0])
    if span * fps >= MAX_RESAMPLED_FRAMES:
        raise InputError(
            f"resampling to {fps:g} fps would make {span * fps:.3g} frames (the motion's times span {span:.6g} s), "
            f"more than {MAX_RESAMPLED_FRAMES} in one BVH: check the recording's timestamps or choose a lower --fps"
        )
    n = int(math.floor(span * fps + 1e-6)) + 1
    out_t = t[0] + np.arange(n) / fps
    out_t = np.minimum(out_t, t[-1])
    rots = np.empty((n, NUM_BONES, 4))
    for b in range(NUM_BONES):
        rots[:, b] = Slerp(t, Rotation.from_quat(track.local_rotations[:, b]))(out_t).as_quat()

    fingers = None
    if track.finger_rotations is not None:
        fingers = np.empty((n, NUM_FINGER_BONES, 4))
        for b in range(NUM_FINGER_BONES):
            fingers[:, b] = Slerp(t, Rotation.from_quat(track.finger_rotations[:, b]))(out_t).as_quat()
    root = np.stack([np.interp(out_t, t, track.root_positions[:, c]) for c in range(3)], axis=1)
    positions, _ = forward_kinematics(rots, root, track.offsets)
    return BodyTrack(out_t, rots, root, positions, track.offsets, track.floor_height, fingers)


def bvh_for_track(
    track: BodyTrack, fps: float | None = None, nominal_fps: float | None = None
) -> tuple[str, BodyTrack, float]:
    """BVH text for a track, the (possibly resampled) track it holds, and its frame rate.

    fps: the output rate (always resamples to it unless the track is already on that grid).
    Without it the rate is ``nominal_fps`` (e.g. the take's) or the median rate, and the track
    is resampled only if its frames are not evenly spaced at that rate.
    """
    if fps is None:
        if nominal_fps and on_grid(track.times, nominal_fps):
            fps = nominal_fps
        elif len(track) > 1:
            fps = float(1.0 / np.median(np.diff(track.times)))
        else:
            fps = nominal_fps or 30.0
    out = track if on_grid(track.times, fps) else resample(track, fps)
    text = skeleton_bvh_text(
        out.local_rotations, out.root_positions, 1.0 / fps, out.offsets, finger_rotations=out.finger_rotations
    )
    return text, out, fps


def export_bvh(
    track: BodyTrack,
    path: str | os.PathLike[str],
    fps: float | None = None,
    nominal_fps: float | None = None,
    force: bool = False,
    origin: str = "camera",
) -> tuple[Path, BodyTrack, float]:
    """Write the track as BVH (see :func:`bvh_for_track`) in ``origin`` (:data:`ORIGINS`).
    Returns ``(path, written track, fps)``; the written track is in the BVH's frame.
    Raises :class:`OutputError` if ``path`` exists without ``force`` or cannot be written."""
    if origin not in ORIGINS:
        raise InputError(f"origin must be one of {', '.join(ORIGINS)}, got {origin!r}")
    p = check_writable(path, force=force)
    if origin == "floor":
        track = translated(track, floor_origin(track))
    text, out, rate = bvh_for_track(track, fps=fps, nominal_fps=nominal_fps)
    write_text_atomic(p, text, force=force)
    return p, out, rate


def angles_path(csv_path: str | os.PathLike[str]) -> Path:
    """Where the joint-angle CSV goes beside a landmark CSV: ``OUT.angles.csv``."""
    p = Path(csv_path)
    return p.with_name(p.stem + ".angles.csv")


def export_csv(
    take: Take, path: str | os.PathLike[str], person: int | None = None, force: bool = False
) -> tuple[Path, int, Path | None, Path | None]:
    """Write the take's landmarks as the CSV of ``arpose run --csv`` (same columns,
    :data:`arpose.record.CSV_COLUMNS`), only ``person`` if given; if any person has joint
    angles, a second long-form CSV ``OUT.angles.csv`` with :data:`ANGLE_COLUMNS`
    (``degrees`` empty for NaN); and if any has hands or a face (recorded with ``--hands`` /
    ``--face``), the hands and face CSV ``OUT.hands_face.csv`` of ``arpose run --csv``
    (:data:`arpose.record.csv_landmarks.HANDS_FACE_COLUMNS`). Returns ``(csv path, rows,
    angles path or None, hands and face path or None)``. Every file is checked writable
    (``force``) before any is written. Raises :class:`InputError` for a take without frames or
    without ``person``, :class:`OutputError` for an output that exists without ``force``."""
    if not take.frames:
        raise InputError(f"take {take.path} holds no frames (nothing to export)")
    if person is not None and person not in take.person_ids:
        raise InputError(
            f"take {take.path} has no person {person} "
            f"(people in it: {', '.join(map(str, sorted(take.person_ids))) or 'none'})"
        )
    has_angles = any(p.angles is not None for f in take.frames for p in f.people if person is None or p.id == person)
    apath = angles_path(path) if has_angles else None
    has_hf = any(
        p.hands is not None or p.face is not None or p.face_pose is not None
        for f in take.frames
        for p in f.people
        if person is None or p.id == person
    )
    hpath = hands_face_path(path) if has_hf else None
    for out in (path, apath, hpath):
        if out is not None:
            check_writable(out, force=force)
    with CsvWriter(path, force=force, hands_face=has_hf) as writer:
        for pf in take.pose_frames():
            if person is not None:
                pf = pf.with_people([p for p in pf.people if p.id == person])
            writer.write(pf)
        rows = writer.rows
    if apath is not None:
        out = CsvOutput(apath, ANGLE_COLUMNS, force=force)
        for f in take.frames:
            out.write_frame(
                (f.index, f"{f.timestamp:.6f}", p.id, name, "" if not math.isfinite(deg) else f"{deg:.4f}")
                for p in f.people
                if p.angles is not None and (person is None or p.id == person)
                for name, deg in p.angles.items()
            )
        out.close()
    return Path(path), rows, apath, hpath


def track_from_pose_frames(frames: Sequence, person: int | None = None, what: str = "the run") -> tuple[int, BodyTrack]:
    """Like :func:`take_body_track` for ``(timestamp, people)`` pairs collected live."""
    counts: dict[int, int] = {}
    for _, people in frames:
        for p in people:
            if p.body is not None:
                counts[p.id] = counts.get(p.id, 0) + 1
    if not counts:
        raise InputError(
            f"{what} produced no retargeted body pose to write as BVH "
            f"(turn retargeting on, and check that a person was found)"
        )
    pid = max(sorted(counts), key=lambda i: counts[i]) if person is None else int(person)
    found = [(t, next((p for p in people if p.id == pid), None)) for t, people in frames]
    if any(p is not None and getattr(p, "fingers", None) is not None for _, p in found):
        samples: Iterable[tuple] = ((t, p.body, p.fingers) if p is not None else (t, None, None) for t, p in found)
    else:
        samples = ((t, p.body if p is not None else None) for t, p in found)
    return pid, body_track(samples, what=f"{what} (person {pid})")
