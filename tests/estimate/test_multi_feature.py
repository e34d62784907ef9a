"""``--max-people`` / ``--model`` / ``--track-gap`` / ``--tiles``: options -> spec
(arpose.app.feat_people) -> estimator and track stage (arpose.build)."""

import argparse
from dataclasses import replace

import numpy as np
import pytest

from arpose.app import feat_people
from arpose.build import make_estimator, make_stages
from arpose.errors import ConfigError, InputError
from arpose.estimate import BlazePoseEstimator
from arpose.estimate.litert import LiteRTPoseEstimator
from arpose.estimate.tasks import MultiPoseEstimator, build_bundle
from arpose.landmarks import PoseLandmark as L
from arpose.source import open_source
from arpose.spec import PipelineSpec, RunningMode
from arpose.track import TrackStage
from arpose.types import Camera

CAMERA = Camera.from_fov(640, 480)


def _args(*argv):
    parser = argparse.ArgumentParser()
    feat_people.add_options(parser)
    return parser.parse_args(list(argv))


def _spec(*argv, source=None):
    spec = feat_people.apply(_args(*argv), PipelineSpec())
    mode = RunningMode.for_source(source) if source is not None else RunningMode.VIDEO
    return replace(spec, estimator=replace(spec.estimator, mode=mode)).validate()


class _Tracked:
    """The estimator followed by the track stage, as the pipeline runs them."""

    def __init__(self, spec):
        self.estimator = make_estimator(spec)
        self.stage = next(s for s in make_stages(spec, CAMERA) if s.name == "track")
        self.config = self.estimator.config

    def process(self, frame):
        return self.stage.process(self.estimator.process(frame))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.estimator.close()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return str(build_bundle(tmp_path_factory.mktemp("cache") / "pose.task"))


def test_default_is_the_single_person_path_on_litert(media):
    source = open_source(str(media / "images" / "person_yoga_tree_pixabay.jpg"))
    spec = _spec(source=source)
    assert spec.estimator.max_people == 1 and spec.estimator.model is None and spec.estimator.tiles == 1
    assert spec.tracking.max_gap == 1.5
    assert "track" not in [s.name for s in make_stages(spec, CAMERA)]  # one person: no identity tracking
    with make_estimator(spec) as est:  # the default backend: BlazePose's pipeline on LiteRT
        assert isinstance(est, LiteRTPoseEstimator) and est.config.tracking is False
    with make_estimator(_spec("--backend", "mediapipe", source=source)) as est:
        assert isinstance(est, BlazePoseEstimator) and est.config.tracking is False


def test_one_person_with_a_model_uses_tasks_with_id_0(media, bundle):
    source = open_source(str(media / "images" / "person_yoga_tree_pixabay.jpg"))
    with make_estimator(_spec("--model", bundle, source=source)) as est:
        assert isinstance(est, MultiPoseEstimator) and est.config.max_people == 1
        (frame,) = list(source)
        assert [p.id for p in est.process(frame).people] == [0]


def test_several_people_in_a_still_are_numbered_from_the_left(media, bundle):
    source = open_source(str(media / "images" / "multi_three_people.jpg"))
    est = _Tracked(_spec("--max-people", "4", "--model", bundle, source=source))
    with est:
        assert isinstance(est.estimator, MultiPoseEstimator) and est.config.tracking is False
        assert isinstance(est.stage, TrackStage)
        (frame,) = list(source)
        people = est.process(frame).people
    assert [p.id for p in people] == [0, 1, 2]
    noses = [p.landmarks[L.NOSE, 0] for p in people]
    assert noses == sorted(noses)


def test_several_people_in_a_video_are_tracked_with_stable_ids(media, bundle):
    source = open_source(str(media / "videos" / "single_dance_woman.mp4"))
    est = _Tracked(_spec("--max-people", "3", "--model", bundle, "--track-gap", "0.5", source=source))
    ids = set()
    with est:
        assert est.config.tracking is True and est.stage.tracker.config.max_gap == 0.5
        for k, frame in enumerate(source):
            if k >= 20:
                break
            pf = est.process(frame)
            ids.update(p.id for p in pf.people)
            assert all(np.isfinite(p.world).all() for p in pf.people)
    assert ids == {0}  # one dancer, one id throughout


@pytest.mark.parametrize(
    "argv,match",
    [
        (["--max-people", "0"], "--max-people"),
        (["--max-people", "99"], "--max-people"),
        (["--track-gap", "-1"], "--track-gap"),
        (["--track-gap", "nan"], "--track-gap"),
        (["--tiles", "3"], "--tiles needs --max-people"),
        (["--max-people", "2", "--tiles", "0"], "--tiles must be"),
    ],
)
def test_bad_values_are_config_errors_before_any_work(argv, match):
    with pytest.raises(ConfigError, match=match):
        _spec(*argv)


def test_bad_model_is_an_input_error(media, tmp_path):
    source = open_source(str(media / "images" / "person_yoga_tree_pixabay.jpg"))
    with pytest.raises(InputError, match="model file not found"):
        make_estimator(_spec("--max-people", "2", "--model", str(tmp_path / "nope.task"), source=source))
    bad = tmp_path / "bad.task"
    bad.write_text("not a zip")
    with pytest.raises(InputError, match="not a MediaPipe .task bundle"):
        make_estimator(_spec("--model", str(bad), source=source))


class _StillsAsClip:
    """One photo repeated as a 10 fps clip (a sequence: smoothing and retargeting keep state)."""

    kind = "video"
    is_sequence = True
    fps = 10.0

    def __init__(self, frame, n):
        self.frame, self.frame_count, self.size, self.name = frame, n, frame.size, "stills"

    def __iter__(self):
        from arpose.types import Frame

        for i in range(self.frame_count):
            yield Frame(self.frame.image, i / self.fps, i)


def test_every_stage_keeps_each_person_apart(media, bundle):
    """The run command's whole stage chain (smoothing, retargeting, ...) on three people: every
    id is kept, each with its own body, and no stage mixes people up."""
    from arpose.app import cli
    from arpose.app.runner import spec_from_args
    from arpose.build import build_pipeline

    (frame,) = list(open_source(str(media / "images" / "multi_three_people.jpg")))
    source = _StillsAsClip(frame, 4)
    args = cli.build_parser().parse_args(["run", "x.mp4", "--max-people", "4", "--model", bundle])
    pipeline = build_pipeline(spec_from_args(args), source, Camera.from_fov(*frame.size, 60.0))
    assert [s.name for s in pipeline.stages] == ["track", "swap", "smooth", "retarget"]
    try:
        results = [pipeline.analyze(f) for f in source]
    finally:
        pipeline.close()
    first = {p.id: p.raw_landmarks if p.raw_landmarks is not None else p.landmarks for p in results[0].people}
    assert sorted(first) == [0, 1, 2]
    for pf in results:
        assert [p.id for p in pf.people] == [0, 1, 2]
        for p in pf.people:
            assert p.body is not None  # retargeted, one body per person
            nose = p.landmarks[L.NOSE, :2]
            assert np.linalg.norm(nose - first[p.id][L.NOSE, :2]) < 0.01  # still their own nose
