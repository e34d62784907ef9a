"""``--max-people`` / ``--model`` / ``--track-gap`` / ``--tiles`` (arpose.app.feat_people)."""

import argparse

import numpy as np
import pytest

from arpose.app import feat_people
from arpose.errors import ConfigError, InputError
from arpose.estimate import BlazePoseEstimator
from arpose.estimate.tasks import MultiPoseEstimator, build_bundle
from arpose.landmarks import PoseLandmark as L
from arpose.source import open_source
from arpose.track import TrackingEstimator


def _args(*argv):
    parser = argparse.ArgumentParser()
    feat_people.add_options(parser, "run")
    return parser.parse_args(list(argv))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return str(build_bundle(tmp_path_factory.mktemp("cache") / "pose.task"))


def test_default_is_the_classic_single_person_path(media):
    source = open_source(str(media / "images" / "person_yoga_tree_pixabay.jpg"))
    args = _args()
    assert args.max_people == 1 and args.model is None and args.tiles == 1 and args.track_gap == 1.5
    assert feat_people.stages(args, None) == [] and feat_people.sinks(args, None) == []
    with feat_people.make_estimator(args, source) as est:
        assert isinstance(est, BlazePoseEstimator) and est.config.tracking is False


def test_one_person_with_a_model_uses_tasks_with_id_0(media, bundle):
    source = open_source(str(media / "images" / "person_yoga_tree_pixabay.jpg"))
    with feat_people.make_estimator(_args("--model", bundle), source) as est:
        assert isinstance(est, MultiPoseEstimator) and est.config.max_people == 1
        (frame,) = list(source)
        assert [p.id for p in est.process(frame).people] == [0]


def test_several_people_in_a_still_are_numbered_from_the_left(media, bundle):
    source = open_source(str(media / "images" / "multi_three_people.jpg"))
    est = feat_people.make_estimator(_args("--max-people", "4", "--model", bundle), source)
    with est:
        assert isinstance(est, TrackingEstimator) and est.config.tracking is False
        (frame,) = list(source)
        people = est.process(frame).people
    assert [p.id for p in people] == [0, 1, 2]
    noses = [p.landmarks[L.NOSE, 0] for p in people]
    assert noses == sorted(noses)


def test_several_people_in_a_video_are_tracked_with_stable_ids(media, bundle):
    source = open_source(str(media / "videos" / "single_dance_woman.mp4"))
    est = feat_people.make_estimator(_args("--max-people", "3", "--model", bundle, "--track-gap", "0.5"), source)
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
        feat_people.stages(_args(*argv), None)


def test_bad_model_is_an_input_error(media, tmp_path):
    source = open_source(str(media / "images" / "person_yoga_tree_pixabay.jpg"))
    with pytest.raises(InputError, match="model file not found"):
        feat_people.make_estimator(_args("--max-people", "2", "--model", str(tmp_path / "nope.task")), source)
    bad = tmp_path / "bad.task"
    bad.write_text("not a zip")
    with pytest.raises(InputError, match="not a MediaPipe .task bundle"):
        feat_people.make_estimator(_args("--model", str(bad)), source)


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
    from arpose.app.runner import RunContext, build_pipeline
    from arpose.types import Camera

    (frame,) = list(open_source(str(media / "images" / "multi_three_people.jpg")))
    source = _StillsAsClip(frame, 4)
    args = cli.build_parser().parse_args(["run", "x.mp4", "--max-people", "4", "--model", bundle])
    ctx = RunContext(command="run", source=source, camera=Camera.from_fov(*frame.size, 60.0))
    pipeline = build_pipeline(args, ctx, feat_people.make_estimator(args, source))
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
