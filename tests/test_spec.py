"""PipelineSpec: defaults, validation with one-line errors naming the setting, and the TOML /
plain-data round trips the CLI (--config, --print-config) and take headers use."""

from dataclasses import replace

import pytest

from arpose import spec as S
from arpose.errors import ConfigError, InputError
from arpose.smooth import SmoothConfig


def full_spec() -> S.PipelineSpec:
    """A spec with every table and output kind set away from its defaults."""
    return S.PipelineSpec(
        estimator=S.EstimatorSpec(mode=S.RunningMode.LIVE, max_people=3, model="m.task", tiles=2, segmentation=True),
        tracking=S.TrackingSpec(max_gap=0.75),
        smooth=S.SmoothSpec(min_cutoff=3.0, beta=5.0, depth_beta=2.0, image_d_cutoff=1.5, reset_gap=1.0),
        retarget=S.RetargetSpec(grounding=False, subject_height=1.65),
        camera=S.CameraSpec(fov=75.0),
        overlay=S.OverlaySpec(props=("crown", "glasses"), avatar="over", occlusion=False, lighting="dynamic"),
        outputs=(
            S.VideoOutput("out.mp4"),
            S.CsvOutput("lm.csv"),
            S.AnglesOutput("angles.csv"),
            S.TakeOutput("a.take"),
            S.BvhOutput("a.bvh", person=2, origin="floor"),
            S.VmcOutput("10.0.0.5", 39540, rate_hz=30.0, expressions="vrm1"),
            S.OscOutput("localhost", 9001),
        ),
    )


def test_defaults_describe_the_product_defaults():
    spec = S.PipelineSpec()
    assert spec.smooth.config() == SmoothConfig()
    assert spec.estimator.mode is S.RunningMode.VIDEO and spec.estimator.max_people == 1
    assert spec.smoothing and spec.retarget.enabled and not spec.segmentation and spec.outputs == ()
    assert S.PipelineSpec().validate() == spec


def test_auto_backend_is_litert_for_one_person_with_the_wheels_model():
    est = S.EstimatorSpec()
    assert est.backend == "auto" and est.resolved_backend == "litert"
    assert replace(est, max_people=2).resolved_backend == "mediapipe"  # several people: MediaPipe Tasks
    assert replace(est, model="pose_landmarker_heavy.task").resolved_backend == "mediapipe"
    assert replace(est, backend="mediapipe").resolved_backend == "mediapipe"
    assert replace(est, backend="litert", max_people=2).resolved_backend == "litert"  # validate() refuses it
    with pytest.raises(ConfigError, match="--backend litert runs the wheel's Full model"):
        replace(S.PipelineSpec(), estimator=replace(est, backend="litert", max_people=2)).validate()


def test_litert_threads_leave_a_core_to_the_props_unless_set():
    spec = S.PipelineSpec()
    assert spec.estimator.threads == 0 and spec.litert_threads == 2  # nothing else runs: both cores
    props = replace(spec, overlay=S.OverlaySpec(props=("crown",)))
    assert props.litert_threads == 1  # the render takes the other core
    assert replace(spec, overlay=S.OverlaySpec(avatar="beside")).litert_threads == 1
    assert replace(props, estimator=replace(props.estimator, threads=2)).litert_threads == 2
    with pytest.raises(ConfigError, match="--threads must be between 1 and 64"):
        replace(spec, estimator=replace(spec.estimator, threads=-1)).validate()


def test_mode_decides_tracking_smoothing_and_grounding():
    still = replace(S.PipelineSpec(), estimator=S.EstimatorSpec(mode=S.RunningMode.IMAGE))
    assert not still.estimator.tracking and not still.smoothing
    assert still.retarget.config(S.RunningMode.IMAGE).grounding_enabled is False
    assert S.RetargetSpec().config(S.RunningMode.LIVE).grounding_enabled is True

    class Cam:
        kind = "camera"

    class Stills:
        kind, is_sequence = "folder", False

    class Clip:
        kind, is_sequence = "video", True

    assert [S.RunningMode.for_source(s) for s in (Cam(), Stills(), Clip())] == [
        S.RunningMode.LIVE,
        S.RunningMode.IMAGE,
        S.RunningMode.VIDEO,
    ]


def test_props_with_occlusion_ask_for_segmentation():
    spec = S.PipelineSpec(overlay=S.OverlaySpec(props=("crown",)), outputs=(S.VideoOutput("o.mp4"),))
    assert spec.segmentation
    assert not replace(spec, overlay=replace(spec.overlay, occlusion=False)).segmentation


def test_outputs_are_one_per_kind_in_wiring_order():
    spec = S.PipelineSpec().with_output(S.VideoOutput("v.mp4")).with_output(S.VmcOutput()).with_output(S.CsvOutput("c"))
    assert [o.kind for o in spec.outputs] == ["vmc", "csv", "video"]  # streams first, the video last
    spec = spec.with_output(S.CsvOutput("d"))
    assert spec.output("csv").path == "d" and len(spec.outputs) == 3
    assert spec.without_output("vmc").output("vmc") is None


def test_toml_round_trip_of_every_table_and_output():
    spec = full_spec()
    text = S.spec_to_toml(spec)
    assert "[outputs.vmc]" in text and "[smooth]" in text and 'mode = "live"' in text
    assert S.spec_from_toml(text) == spec
    assert S.spec_from_dict(S.spec_to_dict(spec)) == spec
    assert S.spec_from_toml(S.spec_to_toml(S.PipelineSpec())) == S.PipelineSpec()


def test_a_table_changes_only_what_it_names():
    spec = S.spec_from_toml("[smooth]\nbeta = 2\n[outputs.vmc]\nhost = 'avatar.local'\n", full_spec())
    assert spec.smooth.beta == 2.0 and spec.smooth.min_cutoff == 3.0  # the rest kept from the base
    assert spec.output("vmc") == S.VmcOutput("avatar.local", 39540, 30.0, expressions="vrm1")
    assert S.spec_from_toml("[outputs.vmc]\n").output("vmc") == S.VmcOutput()  # a bare table: defaults


@pytest.mark.parametrize(
    "text, match",
    [
        ("[smoth]\nbeta = 1\n", r"unknown table \[smoth\]"),
        ("[smooth]\nspeed = 1\n", "unknown key 'speed'"),
        ("[smooth]\nbeta = 'high'\n", r"\[smooth\] beta must be a number"),
        ("[estimator]\nmax_people = 2.5\n", "max_people must be a whole number"),
        ("[estimator]\nmode = 'fast'\n", "mode must be one of image, video, live"),
        ("[overlay]\nprops = 'crown'\n", "props must be a list of names"),
        ("[retarget]\nenabled = 'yes'\n", "enabled must be true or false"),
        ("[outputs.csv]\n", r"\[outputs.csv\] needs a path"),
        ("[outputs.fbx]\npath = 'a.fbx'\n", r"unknown output \[outputs.fbx\]"),
        ("[camera\n", "not valid TOML"),
        ("outputs = 3\n", "must be a table"),
    ],
)
def test_bad_toml_is_one_line_naming_the_key(text, match):
    with pytest.raises(ConfigError, match=match) as info:
        S.spec_from_toml(text, where="my.toml")
    assert "\n" not in str(info.value) and str(info.value).startswith("my.toml")


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(estimator=S.EstimatorSpec(max_people=0)), "--max-people"),
        (dict(estimator=S.EstimatorSpec(tiles=3)), "--tiles needs --max-people"),
        (dict(estimator=S.EstimatorSpec(min_detection_confidence=1.5)), "min_detection_confidence"),
        (dict(tracking=S.TrackingSpec(max_gap=float("nan"))), "--track-gap"),
        (dict(smooth=S.SmoothSpec(min_cutoff=0.0)), "min_cutoff"),
        (dict(retarget=S.RetargetSpec(subject_height=3.0)), "--subject-height"),
        (dict(camera=S.CameraSpec(fov=0.5)), "field of view"),
        (dict(overlay=S.OverlaySpec(props=("crown",))), "add --out"),
        (dict(overlay=S.OverlaySpec(manifest="m.json")), "--props-manifest"),
        (dict(overlay=S.OverlaySpec(props=("",)), outputs=(S.VideoOutput("o.mp4"),)), "empty prop"),
        (dict(retarget=S.RetargetSpec(enabled=False), outputs=(S.AnglesOutput("a.csv"),)), "--angles needs"),
        (dict(retarget=S.RetargetSpec(enabled=False), outputs=(S.BvhOutput("a.bvh"),)), "--bvh needs"),
        (dict(outputs=(S.CsvOutput("same.txt"), S.AnglesOutput("same.txt"))), "same file"),
        (dict(outputs=(S.VmcOutput(host=" "),)), "empty host"),
        (dict(outputs=(S.OscOutput(port=70000),)), "port must be"),
        (dict(outputs=(S.VmcOutput(rate_hz=0.0),)), "--osc-rate"),
        (dict(outputs=(S.CsvOutput(""),)), "needs a file name"),
        (dict(outputs=(S.BvhOutput("a.bvh", origin="hips"),)), "--bvh-origin"),
        (dict(outputs=(S.CsvOutput("a"), S.CsvOutput("b"))), "one output of each kind"),
    ],
)
def test_validate_refuses_bad_values_and_combinations(change, match):
    with pytest.raises(ConfigError, match=match):
        replace(S.PipelineSpec(), **change).validate()


def test_a_window_is_an_image_output():
    spec = S.PipelineSpec(overlay=S.OverlaySpec(avatar="beside"))
    with pytest.raises(ConfigError):
        spec.validate()
    assert spec.validate(view=True) is spec


def test_load_spec_reads_a_file_with_typed_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        S.load_spec(str(tmp_path / "none.toml"))
    with pytest.raises(InputError, match="is a folder"):
        S.load_spec(str(tmp_path))
    path = tmp_path / "a.toml"
    path.write_text(S.spec_to_toml(full_spec()), encoding="utf-8")
    assert S.load_spec(str(path)) == full_spec()
