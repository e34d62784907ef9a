"""Tiles for small people: pure geometry (tiles, coordinates, duplicates) and the real
pedestrians clip (../shared/media)."""

from collections import Counter

import numpy as np
import pytest

from arpose.errors import ConfigError
from arpose.estimate.tasks import (
    MultiPoseConfig,
    MultiPoseEstimator,
    build_bundle,
    landmarks_to_frame,
    merge_duplicates,
    tile_boxes,
)
from arpose.landmarks import VISIBILITY
from arpose.source import open_source
from arpose.track.assign import box_of, visible_points
from arpose.types import Person


def test_tile_boxes_cover_the_image_with_half_overlap():
    assert tile_boxes(480, 360, 1) == [(0, 0, 480, 360)]
    boxes = tile_boxes(480, 360, 5)
    assert len(boxes) == 25
    assert boxes[0] == (0, 0, 160, 120) and boxes[-1] == (320, 240, 480, 360)
    assert boxes[1] == (80, 0, 240, 120)  # half a tile further
    covered = np.zeros((360, 480), bool)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] = True
    assert covered.all()


def _person(x0, y0, x1, y1, size=(480, 360), score=0.9):
    lm = np.zeros((33, 5), np.float32)
    lm[:, 0] = np.linspace(x0, x1, 33) / size[0]
    lm[:, 1] = np.linspace(y0, y1, 33) / size[1]
    lm[:, 3:] = 1.0
    return Person(id=0, landmarks=lm, world=np.zeros((33, 3), np.float32), score=score)


def test_landmarks_to_frame_maps_tile_coordinates():
    lm = np.zeros((33, 5), np.float32)
    lm[:, 0], lm[:, 1], lm[:, 2], lm[:, 3] = 0.5, 0.25, 0.1, 0.7
    out = landmarks_to_frame(lm, (80, 120, 240, 240), (480, 360))
    assert out[0, 0] == pytest.approx((80 + 0.5 * 160) / 480)
    assert out[0, 1] == pytest.approx((120 + 0.25 * 120) / 360)
    assert out[0, 2] == pytest.approx(0.1 * 160 / 480)  # z on the scale of x
    assert out[0, 3] == pytest.approx(0.7) and lm[0, 0] == 0.5  # input untouched


def test_merge_duplicates_keeps_the_best_scored_of_overlapping_people():
    a = _person(100, 100, 130, 160, score=0.8)
    a_again = _person(102, 101, 131, 162, score=0.9)
    b = _person(300, 100, 330, 160, score=0.7)
    kept = merge_duplicates([a, b, a_again], (480, 360))
    assert kept == [a_again, b]


def test_merge_duplicates_keeps_two_real_people_who_overlap():
    front = _person(100, 100, 140, 200, score=0.9)
    behind = _person(140, 200, 100, 100, score=0.8)  # same box, landmarks in other places
    assert merge_duplicates([front, behind], (480, 360)) == [front, behind]


def test_tiles_config_is_validated():
    for bad in (0, 9, 2.0, True):
        with pytest.raises(ConfigError):
            MultiPoseConfig(tiles=bad)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("cache") / "pose.task")


def test_pedestrians_clip_with_tiles_finds_the_small_people(media, bundle):
    """Measured with tiles=5 on the whole clip: see docs/multi_person.md. Here every 15th
    frame (10 frames): somebody on (nearly) every frame, never more than the clip's 8 people,
    and everyone found is small (people are 30-60 px tall) and inside the frame."""
    counts = Counter()
    frames = list(open_source(str(media / "videos" / "multi_pedestrians.mp4")))[::15]
    with MultiPoseEstimator(MultiPoseConfig(max_people=10, model=str(bundle), tiles=5, tracking=False)) as est:
        for frame in frames:
            pf = est.process(frame)
            counts[len(pf.people)] += 1
            for p in pf.people:
                box = box_of(visible_points(p.landmarks, frame.size, 0.0))  # all 33 landmarks
                assert box[3] - box[1] < 120, box  # small people (a poor fit may be smaller still)
                assert box[0] > -10 and box[2] < 490 and box[1] > -10 and box[3] < 370
                assert (p.landmarks[:, VISIBILITY] >= 0.5).sum() >= 10
    assert sum(n for k, n in counts.items() if k >= 1) >= len(frames) - 1
    assert max(counts) <= 8
    assert sum(k * n for k, n in counts.items()) >= 2 * len(frames)  # on average two or more people
