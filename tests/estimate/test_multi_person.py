"""Several people through MediaPipe Tasks' PoseLandmarker, on real media (../shared/media).

The bundle is built once per test session into a temporary folder (never the user's cache).
"""

import zipfile
from collections import Counter

import numpy as np
import pytest

from arpose.errors import ConfigError, InputError
from arpose.estimate import BlazePoseEstimator, EstimatorConfig
from arpose.estimate.tasks import (
    BUNDLE_FILES,
    MultiPoseConfig,
    MultiPoseEstimator,
    build_bundle,
    cache_dir,
    check_bundle,
    default_bundle_path,
    ensure_bundle,
)
from arpose.landmarks import PRESENCE, VISIBILITY
from arpose.landmarks import PoseLandmark as L
from arpose.source import open_source
from arpose.types import Frame

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


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("cache") / "pose.task")


@pytest.fixture(scope="module")
def still_multi(bundle):
    with MultiPoseEstimator(MultiPoseConfig(max_people=5, model=str(bundle), tracking=False)) as est:
        yield est


def _still(media, name):
    (frame,) = list(open_source(str(media / "images" / name)))
    return frame


def test_bundle_holds_both_models_with_image_normalisation(bundle):
    from mediapipe.tasks.python.metadata import metadata

    with zipfile.ZipFile(bundle) as zf:
        assert sorted(zf.namelist()) == sorted(BUNDLE_FILES)
        norm = {}
        for name in BUNDLE_FILES:
            md = metadata.MetadataDisplayer.with_model_buffer(zf.read(name)).get_metadata_json()
            norm[name] = md
    assert '"mean": [\n                  127.5' in norm["pose_detector.tflite"].replace("127.5,", "127.5")
    assert '"std": [\n                  127.5' in norm["pose_detector.tflite"]
    assert '"mean": [\n                  0.0' in norm["pose_landmarks_detector.tflite"]
    assert '"std": [\n                  255.0' in norm["pose_landmarks_detector.tflite"]


def test_bundle_is_cached_in_xdg_cache_and_rebuilt_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "arpose"
    path = ensure_bundle()
    assert path == default_bundle_path() and path.parent == tmp_path / "arpose"
    stamp = path.stat().st_mtime_ns
    assert ensure_bundle() == path and path.stat().st_mtime_ns == stamp  # reused, not rebuilt
    path.write_bytes(b"half a zip")
    assert check_bundle(ensure_bundle()) == path  # rebuilt whole
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left


def test_bad_model_paths_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        MultiPoseEstimator(MultiPoseConfig(model=str(tmp_path / "missing.task")))
    junk = tmp_path / "junk.task"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="not a MediaPipe .task bundle"):
        MultiPoseEstimator(MultiPoseConfig(model=str(junk)))
    wrong = tmp_path / "wrong.task"
    with zipfile.ZipFile(wrong, "w") as zf:
        zf.writestr("hand_detector.tflite", b"x")
    with pytest.raises(InputError, match="lacks pose_detector.tflite"):
        MultiPoseEstimator(MultiPoseConfig(model=str(wrong)))
    fake = tmp_path / "fake.task"
    with zipfile.ZipFile(fake, "w") as zf:
        for name in BUNDLE_FILES:
            zf.writestr(name, b"not a tflite model")
    with pytest.raises(InputError, match="cannot load"):
        MultiPoseEstimator(MultiPoseConfig(model=str(fake)))


@pytest.mark.parametrize(
    "kw", [{"max_people": 0}, {"max_people": 1.5}, {"min_detection_confidence": 1.5}, {"min_tracking_confidence": -0.1}]
)
def test_bad_config_values_are_config_errors(kw):
    with pytest.raises(ConfigError):
        MultiPoseConfig(**kw)


@pytest.mark.parametrize("name,count", [("multi_couple_walking_dog.jpg", 2), ("multi_three_people.jpg", 3)])
def test_multi_person_images(media, still_multi, name, count):
    frame = _still(media, name)
    pf = still_multi.process(frame)
    assert len(pf.people) == count
    centres = []
    for p in pf.people:
        assert p.landmarks.shape == (33, 5) and p.landmarks.dtype == np.float32
        assert p.world.shape == (33, 3) and p.world.dtype == np.float32
        assert np.isfinite(p.landmarks).all() and np.isfinite(p.world).all()
        assert 0.0 < p.score <= 1.0
        seen = p.landmarks[:, VISIBILITY] >= 0.5
        assert seen.sum() >= 10
        upper = p.landmarks[: L.RIGHT_SHOULDER + 1, :2]  # face and shoulders (legs may be cut off)
        assert np.all((upper > -0.02) & (upper < 1.02))
        pres = p.landmarks[:, PRESENCE]  # presence comes from the Tasks API (the classic path has NaN)
        assert np.all((pres >= 0) & (pres <= 1)) and pres[L.NOSE] > 0.5
        hips = (p.world[L.LEFT_HIP] + p.world[L.RIGHT_HIP]) / 2
        assert np.linalg.norm(hips) < 0.05  # metres, origin between the hips
        centres.append(p.pixels(*frame.size)[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER]].mean(axis=0))
    # different people, not one person found twice: shoulder centres at least 40 px apart
    for i in range(count):
        for j in range(i + 1, count):
            assert np.linalg.norm(centres[i] - centres[j]) > 40


def test_couple_the_man_is_on_the_image_left(media, bundle):
    """ids of stills number people from the image's left (the man walks on the left)."""
    from arpose.track import ids_left_to_right

    with MultiPoseEstimator(MultiPoseConfig(max_people=2, model=str(bundle), tracking=False)) as est:
        pf = ids_left_to_right(est.process(_still(media, "multi_couple_walking_dog.jpg")))
    xs = [p.landmarks[L.NOSE, 0] for p in pf.people]
    assert [p.id for p in pf.people] == [0, 1] and xs[0] < xs[1]


@pytest.mark.parametrize("name", ["neg_cat_chelsea.png", "neg_coffee.png", "neg_rocket_launch.jpg"])
def test_negative_images_have_nobody(media, still_multi, name):
    assert still_multi.process(_still(media, name)).people == ()


def test_masks_are_image_sized_and_cover_each_person(media, bundle):
    frame = _still(media, "multi_couple_walking_dog.jpg")
    w, h = frame.size
    with MultiPoseEstimator(MultiPoseConfig(max_people=2, model=str(bundle), tracking=False, segmentation=True)) as est:
        pf = est.process(frame)
    assert len(pf.people) == 2
    for p in pf.people:
        assert p.mask.shape == (h, w) and p.mask.dtype == np.float32
        x, y = p.pixels(w, h)[[L.LEFT_HIP, L.RIGHT_HIP]].mean(axis=0).astype(int)
        assert p.mask[y, x] > 0.5 and p.mask.mean() < 0.5


# ---- single person: Tasks vs the classic solution --------------------------------------------


@pytest.fixture(scope="module")
def single_pairs(media, bundle):
    """``{image: (classic Person, Tasks Person, (w, h))}`` for every person_* image."""
    out = {}
    with (
        BlazePoseEstimator(EstimatorConfig(tracking=False)) as classic,
        MultiPoseEstimator(MultiPoseConfig(max_people=1, model=str(bundle), tracking=False)) as tasks,
    ):
        for name in PERSON_IMAGES:
            frame = _still(media, name)
            (a,) = classic.process(frame).people
            (b,) = tasks.process(frame).people
            out[name] = (a, b, frame.size)
    return out


@pytest.mark.parametrize("name", PERSON_IMAGES)
def test_single_person_world_and_visibility_match_classic(single_pairs, name):
    a, b, _ = single_pairs[name]
    assert b.id == 0
    assert np.abs(a.world - b.world).max() < 1e-3  # metres: the same model on the same crop
    assert np.abs(a.landmarks[:, VISIBILITY] - b.landmarks[:, VISIBILITY]).max() < 1e-3
    assert np.isnan(a.landmarks[:, PRESENCE]).all() and np.isfinite(b.landmarks[:, PRESENCE]).all()


def test_single_person_image_landmarks_match_classic_within_measured_bounds(single_pairs):
    """Measured on these 8 images: the face agrees within 0.5 px (median over all landmarks
    0.08 px) but limbs differ by up to 4.5 px: the two graphs refine landmarks from the heatmap
    with different kernels (see the next test). So the issue's 0.1 px holds for the median and
    for the classic graph run with the kernel its own config declares, not for every landmark of
    the shipped classic solution."""
    d_all, d_face = [], []
    for a, b, (w, h) in single_pairs.values():
        d = np.linalg.norm(a.pixels(w, h) - b.pixels(w, h), axis=1)
        d_all.append(d)
        d_face.append(d[:11])
    d_all, d_face = np.concatenate(d_all), np.concatenate(d_face)
    assert np.median(d_all) < 0.1
    assert d_face.max() < 0.5
    assert d_all.max() < 5.0


def _classic_graph(kernel_size=None):
    """The classic pose graph rebuilt from its expanded config (optionally with another heatmap
    refinement kernel), as a solution taking RGB stills."""
    import mediapipe as mp
    from mediapipe.calculators.util import refine_landmarks_from_heatmap_calculator_pb2 as refine_pb2
    from mediapipe.framework import calculator_pb2
    from mediapipe.python.solution_base import SolutionBase

    pose = mp.solutions.pose.Pose(static_image_mode=True)
    config = calculator_pb2.CalculatorGraphConfig()
    config.ParseFromString(pose._graph.binary_config)
    pose.close()
    declared = []
    for node in config.node:
        if node.calculator == "RefineLandmarksFromHeatmapCalculator":
            ext = node.options.Extensions[refine_pb2.RefineLandmarksFromHeatmapCalculatorOptions.ext]
            declared.append(ext.kernel_size)
            if kernel_size is not None:
                ext.kernel_size = kernel_size
    graph = SolutionBase(
        graph_config=config,
        outputs=["pose_landmarks"],
        side_inputs={
            "model_complexity": 1,
            "smooth_landmarks": False,
            "enable_segmentation": False,
            "smooth_segmentation": False,
            "use_prev_landmarks": False,
        },
    )
    return graph, declared


@pytest.mark.parametrize("kernel,which", [(None, "tasks"), (9, "classic")])
def test_the_difference_is_the_heatmap_kernel(media, single_pairs, kernel, which):
    """The classic graph's config declares a 7-px refinement kernel, as the Tasks graph uses;
    rebuilt from that config it gives the Tasks bundle's image landmarks within 0.1 px (so the
    bundle's metadata and normalisation are right). The shipped classic solution behaves as with
    MediaPipe's default kernel of 9: rebuilt with 9 it reproduces the classic estimator."""
    from arpose._cv import cv2

    graph, declared = _classic_graph(kernel)
    assert declared == [7]
    try:
        for name, (a, b, (w, h)) in single_pairs.items():
            rgb = cv2.cvtColor(_still(media, name).image, cv2.COLOR_BGR2RGB)
            lms = graph.process(rgb).pose_landmarks.landmark
            xy = np.array([[lm.x * w, lm.y * h] for lm in lms])
            target = b if which == "tasks" else a
            assert np.linalg.norm(xy - target.pixels(w, h), axis=1).max() < 0.1, name
    finally:
        graph.close()


# ---- sequences ------------------------------------------------------------------------------


def test_video_mode_timestamps_strictly_increase(bundle, media):
    frames = list(open_source(str(media / "videos" / "single_dance_woman.mp4")))[:12]
    with MultiPoseEstimator(MultiPoseConfig(max_people=2, model=str(bundle))) as est:
        sent = []
        for k, f in enumerate(frames):
            t = 0.5 if k in (3, 4) else f.timestamp  # a repeated and then a backwards timestamp
            f = Frame(f.image, t, f.index)
            sent.append(est.timestamp_ms(f))
            pf = est.process(f)
            assert pf.frame is f
        hits = sum(bool(est.process(Frame(f.image, 10.0 + i, i)).people) for i, f in enumerate(frames))
    assert all(b > a for a, b in zip(sent, sent[1:]))
    assert sent[0] == round(frames[0].timestamp * 1000)
    assert hits == len(frames)


def test_pedestrians_clip_detection_counts(media, bundle):
    """People 40-60 px tall in 480x360 from a high camera: far below what BlazePose's detector
    (224 px input for the whole frame) was trained for. Measured: the Full model finds nobody on
    any of the 150 frames (VIDEO mode, max 8 people). This pins that finding so a change shows."""
    counts = Counter()
    with MultiPoseEstimator(MultiPoseConfig(max_people=8, model=str(bundle))) as est:
        for frame in list(open_source(str(media / "videos" / "multi_pedestrians.mp4")))[::3]:
            counts[len(est.process(frame).people)] += 1
    assert counts == Counter({0: 50})


@pytest.mark.parametrize("name,count", [("multi_couple_walking_dog.jpg", 2), ("multi_three_people.jpg", 3)])
def test_video_mode_keeps_people_who_stand_close_together(media, bundle, name, count):
    """In VIDEO mode the Tasks graph merges regions overlapping by more than its
    min_tracking_confidence; MediaPipe's 0.5 loses one of two people walking hand in hand.
    With ours (0.7) every person is found on every frame of the photo played as a clip."""
    frame = _still(media, name)
    with MultiPoseEstimator(MultiPoseConfig(max_people=4, model=str(bundle))) as est:
        counts = [len(est.process(Frame(frame.image, i / 10, i)).people) for i in range(4)]
    assert counts == [count] * 4
    with MultiPoseEstimator(MultiPoseConfig(max_people=4, model=str(bundle), min_tracking_confidence=0.5)) as est:
        assert len(est.process(Frame(frame.image, 0.0, 0)).people) == count - 1  # MediaPipe's default
