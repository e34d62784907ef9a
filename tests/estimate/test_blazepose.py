"""BlazePose on real media (../shared/media, see SOURCES.md)."""

import numpy as np
import pytest

from arpose.estimate import BlazePoseEstimator, EstimatorConfig
from arpose.landmarks import VISIBILITY
from arpose.landmarks import PoseLandmark as L
from arpose.source import open_source

PERSON_IMAGES = [
    "person_arms_up_frame045.png",
    "person_sitting_street.jpg",
    "person_skier_coco000785.jpg",
    "person_squat_pexels4384679.png",
    "person_standing_businessman_pixabay.jpg",
    "person_upper_body_astronaut.png",
    "person_yoga_tree_pixabay.jpg",
    "person_yoga_warrior2_beach.jpg",
]
STANDING = {
    "person_arms_up_frame045.png",
    "person_standing_businessman_pixabay.jpg",
    "person_yoga_tree_pixabay.jpg",
    "person_yoga_warrior2_beach.jpg",
}
NEGATIVES = ["neg_cat_chelsea.png", "neg_coffee.png", "neg_rocket_launch.jpg"]
VIDEOS = ["single_armsup_oneleg.mp4", "single_dance_man.mp4", "single_dance_woman.mp4", "single_squats_5fps.mp4"]


@pytest.fixture(scope="module")
def still_estimator():
    with BlazePoseEstimator(EstimatorConfig(tracking=False)) as est:
        yield est


def _estimate(est, path):
    (frame,) = list(open_source(str(path)))
    return est.process(frame)


def test_every_person_image_has_all_images_in_the_folder(media):
    found = sorted(p.name for p in (media / "images").glob("person_*"))
    assert found == sorted(PERSON_IMAGES)


@pytest.mark.parametrize("name", PERSON_IMAGES)
def test_person_images_yield_one_pose_inside_the_image(media, still_estimator, name):
    pf = _estimate(still_estimator, media / "images" / name)
    assert len(pf.people) == 1
    p = pf.people[0]
    assert p.landmarks.shape == (33, 5) and p.landmarks.dtype == np.float32
    assert p.world.shape == (33, 3) and p.world.dtype == np.float32
    assert 0.0 < p.score <= 1.0
    seen = p.landmarks[:, VISIBILITY] >= 0.5
    assert seen.sum() >= 10
    xy = p.landmarks[seen, :2]
    assert np.all((xy > -0.02) & (xy < 1.02)), f"visible landmarks outside the image in {name}"
    # World landmarks: metres, origin between the hips.
    hips = (p.world[L.LEFT_HIP] + p.world[L.RIGHT_HIP]) / 2
    assert np.linalg.norm(hips) < 0.05
    if name in STANDING:
        shoulders_y = p.landmarks[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER], 1].mean()
        hips_y = p.landmarks[[L.LEFT_HIP, L.RIGHT_HIP], 1].mean()
        assert shoulders_y < hips_y  # image y grows downwards
        assert p.world[L.NOSE, 1] < p.world[L.LEFT_ANKLE, 1]  # world y is down too


@pytest.mark.parametrize("name", NEGATIVES)
def test_negative_images_yield_no_pose(media, still_estimator, name):
    pf = _estimate(still_estimator, media / "images" / name)
    assert pf.people == ()


def test_subject_left_is_image_right_for_a_frontal_pose(media, still_estimator):
    p = _estimate(still_estimator, media / "images" / "person_yoga_warrior2_beach.jpg").people[0]
    assert p.landmarks[L.LEFT_SHOULDER, 0] > p.landmarks[L.RIGHT_SHOULDER, 0]
    assert p.world[L.LEFT_SHOULDER, 0] > p.world[L.RIGHT_SHOULDER, 0]


@pytest.mark.parametrize("name", VIDEOS)
def test_single_person_videos_tracked_on_90_percent_of_frames(media, name):
    src = open_source(str(media / "videos" / name))
    hits = n = 0
    with BlazePoseEstimator(EstimatorConfig(tracking=True)) as est:
        for frame in src:
            pf = est.process(frame)
            assert pf.timestamp == frame.timestamp and pf.index == frame.index
            n += 1
            hits += len(pf.people) == 1
    assert n > 0 and hits / n >= 0.9, f"{name}: pose on {hits}/{n} frames"


def test_segmentation_mask_when_asked(media):
    (frame,) = list(open_source(str(media / "images" / "person_yoga_warrior2_beach.jpg")))
    with BlazePoseEstimator(EstimatorConfig(tracking=False, segmentation=True)) as est:
        p = est.process(frame).people[0]
    assert p.mask is not None and p.mask.shape == frame.image.shape[:2]
    px = p.pixels(*frame.size)
    hip = px[L.LEFT_HIP].astype(int)
    assert p.mask[hip[1], hip[0]] > 0.5 and p.mask[5, 5] < 0.5
