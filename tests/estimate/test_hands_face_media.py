"""Hands and face on the real media of ../shared/media (read as SOURCES.md describes them):
each hand photo's hands, handedness and finger states; the face photos' blinks and closed
mouths; the blink video's blinks; the fingerspelling video's hand and handshapes; no hands is
NaN, not an error. MediaPipe runs: all slow."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from arpose._cv import cv2
from arpose.build import build_pipeline, spec_for_source
from arpose.estimate import BlazePoseEstimator, EstimatorConfig
from arpose.estimate.hands import HandsConfig
from arpose.estimate.holistic import HolisticConfig, HolisticEstimator
from arpose.landmarks import Finger, Side
from arpose.retarget.face import Expression, solve_face
from arpose.retarget.fingers import extended_fingers, finger_curl, thumb_across
from arpose.retarget.hands_face import hand_points_from_image
from arpose.source import open_source
from arpose.spec import PipelineSpec
from arpose.types import Frame

pytestmark = pytest.mark.slow

ALL, NONE = (True,) * 5, (False,) * 5
#: (file, {subject's side: fingers extended (thumb, index, middle, ring, little)}). The
#: thumbs-up photo shows a geometrically left hand (palm towards the camera, thumb up, fingers
#: to the image's right); SOURCES.md's "right hand" is MediaPipe's label, which assumes a
#: mirrored selfie. The two open hands are both left hands (MediaPipe: "Right" twice); with no
#: body the image's right one is taken as the subject's left.
HAND_PHOTOS = [
    ("hand_open_palm_pixabay129422_f154.jpg", {Side.LEFT: ALL}),
    ("hand_two_open_tfjs.jpg", {Side.LEFT: ALL, Side.RIGHT: ALL}),
    ("hand_fist_tfjs_asl_f000.jpg", {Side.RIGHT: NONE}),
    ("hand_pointing_tfjs_asl_f147.jpg", {Side.RIGHT: (False, True, False, False, False)}),
    ("hand_thumbs_up_pixabay166442.jpg", {Side.LEFT: (True, False, False, False, False)}),
]


@pytest.fixture(scope="module")
def stills():
    """One estimator for unrelated stills with hands and face."""
    est = HolisticEstimator(
        BlazePoseEstimator(EstimatorConfig(tracking=False)), HolisticConfig(hands=True, face=True, tracking=False)
    )
    yield est
    est.close()


def _person(est, path):
    image = cv2.imread(str(path))
    pf = est.process(Frame(image, 0.0, 0))
    assert len(pf.people) == 1, path
    return pf.people[0], (image.shape[1], image.shape[0])


@pytest.mark.parametrize(("name", "want"), HAND_PHOTOS)
def test_hand_photos_hands_sides_and_fingers(stills, media, name, want):
    person, size = _person(stills, media / "images" / name)
    seen = {s for s in Side if np.isfinite(person.hands[s, :, :3]).all()}
    assert seen == set(want), name
    for side, fingers in want.items():
        pts = hand_points_from_image(person.hands[side], size)
        assert tuple(extended_fingers(pts)) == fingers, (name, side, finger_curl(pts).sum(axis=1), thumb_across(pts))
        assert person.hands[side, 0, 3] >= 0.5  # the model's confidence
        assert np.isfinite(person.hands_world[side]).all()


def test_handedness_of_a_mirrored_image(media):
    """The thumbs-up hand is the subject's left; flipped it is a right hand; a mirrored (selfie)
    input swaps the model's handedness back for hands seen without a body."""
    image = cv2.imread(str(media / "images" / "hand_thumbs_up_pixabay166442.jpg"))

    def side_of(img, mirrored):
        config = HolisticConfig(hands=True, tracking=False, hands_config=HandsConfig(mirrored=mirrored))
        with HolisticEstimator(BlazePoseEstimator(EstimatorConfig(tracking=False)), config) as est:
            p = est.process(Frame(img, 0.0, 0)).people[0]
        return {s for s in Side if np.isfinite(p.hands[s, 0, 0])}

    assert side_of(image, False) == {Side.LEFT}
    assert side_of(np.ascontiguousarray(image[:, ::-1]), False) == {Side.RIGHT}
    assert side_of(image, True) == {Side.RIGHT}


@pytest.mark.parametrize(
    ("name", "closed_eyes"),
    [
        ("face_eyes_closed_tfjs_facemesh_f121.jpg", True),
        ("face_business_woman_mpsamples.png", False),
        ("face_two_children_pixabay977170.jpg", False),
    ],
)
def test_face_photos_blink_and_closed_mouth(stills, media, name, closed_eyes):
    person, size = _person(stills, media / "images" / name)
    assert np.isfinite(person.face[:, :3]).all()
    fp = solve_face(person.face, size)
    blink = fp.expressions[[Expression.BLINK_LEFT, Expression.BLINK_RIGHT]]
    if closed_eyes:
        assert blink.min() > 0.7, blink
    else:
        assert blink.max() < 0.3, blink
    assert fp.expression(Expression.MOUTH_OPEN) < 0.2  # every face photo has a closed mouth


def test_no_hands_is_nan_not_an_error(stills, media, tmp_path):
    person, _ = _person(stills, media / "images" / "face_eyes_closed_tfjs_facemesh_f121.jpg")
    assert person.hands.shape == (2, 21, 4) and np.isnan(person.hands).all()
    assert np.isnan(person.hands_world).all()
    out = tmp_path / "o.csv"
    run = subprocess.run(
        [sys.executable, "-m", "arpose", "run", str(media / "images" / "face_eyes_closed_tfjs_facemesh_f121.jpg")]
        + ["--hands", "--csv", str(out), "--no-progress"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert out.is_file()


def _run_video(path, **estimator):
    """Every frame of a video through the real pipeline (estimator, smoothing, retargeting,
    hands_face): the list of each frame's first person (or None) and the frame size."""
    src = open_source(str(path))
    spec = spec_for_source(PipelineSpec(), src)
    spec = replace(spec, estimator=replace(spec.estimator, **estimator))
    people = []
    with build_pipeline(spec, src) as pipeline:
        assert pipeline.stage("hands_face") is not None
        for frame in src:
            pf = pipeline.analyze(frame)
            people.append(pf.people[0] if pf.people else None)
    return people, src.size


def test_blink_video_face_on_every_frame_and_its_blinks(media):
    people, size = _run_video(media / "videos" / "face_blink_headtilt_tfjs.mp4", face=True)
    assert len(people) == 325
    assert all(p is not None and p.face_pose is not None for p in people)
    blink = np.array([p.face_pose.expressions[[Expression.BLINK_LEFT, Expression.BLINK_RIGHT]].min() for p in people])
    shut = blink > 0.5
    starts = [i for i in range(len(shut)) if shut[i] and (i == 0 or not shut[i - 1])]
    # SOURCES.md: clear blinks starting at frames 0, 30, 56, 91, 119, 162; eyes lowered at 243, 280
    listed = [0, 30, 56, 91, 119, 162, 243, 280]
    assert len(starts) == len(listed), starts
    assert all(abs(a - b) <= 2 for a, b in zip(starts, listed)), starts
    assert all(p.face_pose.calibrated for p in people[90:])
    mouth = np.array([p.face_pose.expression(Expression.MOUTH_OPEN) for p in people])
    assert mouth.max() < 0.2  # mouth closed throughout


def test_fingerspelling_video_hand_found_and_handshapes_told_apart(media):
    people, size = _run_video(media / "videos" / "hands_asl_fingerspelling_tfjs.mp4", hands=True, face=True)
    assert len(people) == 325
    # SOURCES.md: a hand and forearm, no face. The whole-frame face search of body-less frames
    # once fitted a face mesh to the hand (frame 50); it must find none.
    faces = [i for i, p in enumerate(people) if p is not None and p.face is not None and np.isfinite(p.face).any()]
    assert faces == []
    right = [p.hands[Side.RIGHT] if p is not None else None for p in people]
    found = [h is not None and np.isfinite(h[:, :3]).all() for h in right]
    assert np.mean(found) >= 0.95
    states = {i: extended_fingers(hand_points_from_image(h, size)) for i, h in enumerate(right) if found[i]}
    fist = [i for i in list(range(0, 9)) + list(range(180, 325)) if i in states]
    index_up = [i for i in range(138, 159) if i in states]
    fist_ok = [not states[i][Finger.INDEX : Finger.LITTLE + 1].any() for i in fist]
    up_ok = [states[i][Finger.INDEX] and not states[i][Finger.MIDDLE] and not states[i][Finger.RING] for i in index_up]
    assert np.mean(fist_ok) >= 0.95, np.mean(fist_ok)
    assert np.mean(up_ok) >= 0.95, np.mean(up_ok)
    assert all(p.fingers is not None for p in people if p is not None)
