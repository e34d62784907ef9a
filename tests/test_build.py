"""build_pipeline: the wiring order, validation before any file is created, inputs never
outputs, resource ownership, the take header's spec, and the docs' ten-line example."""

import re
from pathlib import Path

import numpy as np
import pytest

from arpose import spec as S
from arpose.build import build_pipeline, camera_for, make_stages
from arpose.errors import ConfigError, OutputError
from arpose.pipeline import Pipeline
from arpose.types import Camera, Frame, PoseFrame

ROOT = Path(__file__).resolve().parents[1]


class Src:
    """A source as the builder sees it (name, kind, rate, size; never read)."""

    name, kind, fps, size, is_sequence = "clip", "video", 30.0, (64, 48), True

    def __init__(self, path=None):
        self.path = path


class Closing:
    """Records that it was closed."""

    def __init__(self, log, name):
        self.log, self.name = log, name

    def close(self):
        self.log.append(self.name)


@pytest.mark.parametrize(
    "spec, names",
    [
        (S.PipelineSpec(), ["swap", "smooth", "retarget"]),
        (S.PipelineSpec(estimator=S.EstimatorSpec(max_people=2)), ["track", "swap", "smooth", "retarget"]),
        (S.PipelineSpec(estimator=S.EstimatorSpec(mode=S.RunningMode.IMAGE)), ["retarget"]),
        (S.PipelineSpec(smooth=S.SmoothSpec(enabled=False), retarget=S.RetargetSpec(enabled=False)), ["swap"]),
    ],
)
def test_stages_come_in_pipeline_order(spec, names):
    stages = make_stages(spec, Camera.from_fov(640, 480))
    assert [s.name for s in stages] == names
    retarget = next((s for s in stages if s.name == "retarget"), None)
    if retarget is not None:
        assert retarget.independent_frames == (spec.estimator.mode is S.RunningMode.IMAGE)


def test_outputs_are_wired_streams_first(tmp_path):
    spec = S.PipelineSpec(
        outputs=(S.CsvOutput(str(tmp_path / "a.csv")), S.TakeOutput(str(tmp_path / "a.take")), S.OscOutput()),
        retarget=S.RetargetSpec(enabled=False),
    )
    pipeline = build_pipeline(spec, Src(), Camera.from_fov(64, 48), analysed=True)
    try:
        assert [type(s).__name__ for s in pipeline.sinks] == ["RawOscSink", "TakeWriter", "CsvWriter"]
        assert pipeline.spec == spec and pipeline.estimator is None and pipeline.stages == []
    finally:
        pipeline.close()


def test_the_take_header_stores_the_spec(tmp_path):
    from arpose.record.take import read_take

    path = tmp_path / "a.take"
    spec = S.PipelineSpec(smooth=S.SmoothSpec(beta=3.0), outputs=(S.TakeOutput(str(path)),))
    pipeline = build_pipeline(spec, Src(), Camera.from_fov(64, 48), analysed=True, take_header={"command": "run"})
    image = np.zeros((48, 64, 3), np.uint8)
    with pipeline:
        for i in range(3):
            pipeline.emit(PoseFrame(Frame(image, i / 30.0, i)))
    take = read_take(path)
    assert take.header["command"] == "run"
    assert S.spec_from_dict(take.header["settings"]["spec"]) == spec


def test_a_bad_spec_or_existing_output_fails_before_any_file(tmp_path):
    csv = tmp_path / "a.csv"
    bad = S.PipelineSpec(outputs=(S.CsvOutput(str(csv)),), overlay=S.OverlaySpec(avatar="beside"))
    with pytest.raises(ConfigError, match="--out"):
        build_pipeline(bad, Src())
    assert list(tmp_path.iterdir()) == []
    csv.write_text("keep")
    with pytest.raises(OutputError, match="exists"):
        build_pipeline(S.PipelineSpec(outputs=(S.CsvOutput(str(csv)),)), Src(), analysed=True)
    assert csv.read_text() == "keep"


def test_an_input_is_never_an_output(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video bytes")
    for force in (False, True):
        with pytest.raises(OutputError, match="input"):
            build_pipeline(S.PipelineSpec(outputs=(S.VideoOutput(str(clip)),)), Src(clip), force=force)
    assert clip.read_bytes() == b"video bytes"


def test_a_build_that_fails_part_way_leaves_no_file(tmp_path):
    """The CSV opens, then the video's extension is refused: the CSV is closed and removed."""
    spec = S.PipelineSpec(outputs=(S.CsvOutput(str(tmp_path / "a.csv")), S.VideoOutput(str(tmp_path / "a.xyz"))))
    with pytest.raises(OutputError, match="extension"):
        build_pipeline(spec, Src(), Camera.from_fov(64, 48), analysed=True, renderer=lambda pf, fps: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_pipeline_owns_and_closes_everything_once():
    log = []
    est, rend = Closing(log, "estimator"), Closing(log, "renderer")
    sinks = [Closing(log, "sink1"), Closing(log, "sink2")]

    class Failing(Closing):
        def close(self):
            super().close()
            raise OSError("disk full")

    sinks.insert(1, Failing(log, "failing"))
    pipeline = Pipeline(est, renderer=rend, sinks=sinks)
    with pytest.raises(OSError, match="disk full"):
        pipeline.close()
    assert log == ["sink1", "failing", "sink2", "renderer", "estimator"]  # the rest closed despite the failure
    pipeline.close()
    assert len(log) == 5  # closing twice does nothing


def test_camera_comes_from_the_source_or_the_spec():
    own = Camera.from_fov(64, 48, 90.0)

    class Performer(Src):
        camera = own

    assert camera_for(S.PipelineSpec(), Performer()) is own
    assert camera_for(S.PipelineSpec(camera=S.CameraSpec(fov=40.0)), Src()).hfov_deg == pytest.approx(40.0)


@pytest.mark.slow
def test_the_docs_example_runs(media, tmp_path, monkeypatch):
    """docs/pipeline.md's ten lines, as written, on a real clip: every output is complete."""
    text = (ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")
    code = re.search(r"## Ten lines of Python.*?```python\n(.*?)```", text, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    (tmp_path / "clip.mp4").symlink_to(media / "videos" / "single_squats_5fps.mp4")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/pipeline.md", "exec"), {})
    from arpose.record import read_landmark_csv
    from arpose.record.take import read_take

    take = read_take(tmp_path / "clip.take")
    assert len(take.frames) == 65 and take.header["settings"]["spec"]["overlay"]["props"] == ["crown"]
    assert {frame for frame, _ in read_landmark_csv(tmp_path / "landmarks.csv")} >= set(range(5, 60))
    import av

    with av.open(str(tmp_path / "annotated.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 65


def test_a_prop_worn_on_a_finger_needs_the_hands():
    from dataclasses import replace

    from arpose.build import chosen_props

    def spec(props, hands):
        base = S.PipelineSpec(overlay=S.OverlaySpec(props=props))
        return replace(base, estimator=replace(base.estimator, hands=hands))

    with pytest.raises(ConfigError, match=r"^--props ring is worn on a finger: add --hands or --holistic"):
        chosen_props(spec(("crown", "ring"), hands=False))
    assert "ring" in [p.name for p in chosen_props(spec(("crown", "ring"), hands=True))]
    # every prop: without hands the ring has nothing to sit on and is left out
    without = [p.name for p in chosen_props(spec(("all",), hands=False))]
    assert "ring" not in without and "crown" in without
    assert "ring" in [p.name for p in chosen_props(spec(("all",), hands=True))]
    # a replayed take draws what it recorded: no check
    assert "ring" in [p.name for p in chosen_props(spec(("ring",), hands=False), replayed=True)]
