"""Smoothing options: --no-smooth, --smooth MIN_CUTOFF,BETA, --config FILE.toml; bad values exit 2."""

from dataclasses import fields

import pytest

from arpose.app import feat_smooth
from arpose.app.cli import build_parser, main
from arpose.app.runner import spec_from_args, with_mode
from arpose.build import make_stages
from arpose.errors import ConfigError, InputError
from arpose.smooth import SmoothConfig, SmoothStage
from arpose.spec import RunningMode, SmoothSpec
from arpose.types import Camera


def _all_stages(argv, is_sequence=True):
    args = build_parser().parse_args(["run", "in.mp4", *argv])
    spec = with_mode(spec_from_args(args), RunningMode.VIDEO if is_sequence else RunningMode.IMAGE).validate()
    return make_stages(spec, Camera.from_fov(640, 480))


def _stages(argv, is_sequence=True):
    return [s for s in _all_stages(argv, is_sequence) if s.name == "smooth"]


def test_smoothing_is_the_first_stage_and_on_by_default():
    names = [s.name for s in _all_stages([])]
    assert isinstance(_all_stages([])[names.index("smooth")], SmoothStage)
    assert names.index("smooth") < names.index("retarget")  # bodies come from smoothed landmarks
    assert SmoothSpec().config() == SmoothConfig()  # the spec's defaults are the smoother's
    assert set(feat_smooth.TOML_KEYS) == {f.name for f in fields(SmoothSpec)}  # every key documented
    (stage,) = _stages([])
    assert isinstance(stage, SmoothStage) and stage.config == SmoothConfig()


def test_no_smooth_gives_raw_output_and_stills_are_never_blended():
    assert _stages(["--no-smooth"]) == []
    assert _stages([], is_sequence=False) == []


def test_smooth_flag_sets_world_parameters():
    (stage,) = _stages(["--smooth", "0.3,12.5"])
    assert stage.config.world.min_cutoff == 0.3 and stage.config.world.beta == 12.5
    assert stage.config.image == SmoothConfig().image


@pytest.mark.parametrize("bad", ["0.1", "a,b", "0,40", "-1,4", "0.1,-2", "nan,1", "0.1,40,1", "inf,2"])
def test_bad_smooth_values_raise_config_error(bad):
    with pytest.raises(ConfigError, match="--smooth"):
        _stages([f"--smooth={bad}"])


def test_toml_config_sets_every_key_and_cli_wins(tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text(
        "[smooth]\nmin_cutoff = 0.2\nbeta = 10\nd_cutoff = 2.0\nimage_min_cutoff = 0.3\nimage_beta = 5\n"
        "image_d_cutoff = 1.5\ndepth_min_cutoff = 0.7\ndepth_beta = 0.25\ndepth_d_cutoff = 0.5\nvisibility_threshold = 0.3\nhidden_cutoff = 0\nvisibility_cutoff = 2\n"
        "reset_gap = 1.0\n"
    )
    (stage,) = _stages(["--config", str(cfg)])
    c = stage.config
    assert (c.world.min_cutoff, c.world.beta, c.world.d_cutoff) == (0.2, 10.0, 2.0)
    assert (c.image.min_cutoff, c.image.beta, c.image.d_cutoff) == (0.3, 5.0, 1.5)
    assert (c.world_depth.min_cutoff, c.world_depth.beta, c.world_depth.d_cutoff) == (0.7, 0.25, 0.5)
    assert (c.visibility_threshold, c.hidden_cutoff, c.visibility_cutoff, c.reset_gap) == (0.3, 0.0, 2.0, 1.0)
    (stage,) = _stages(["--config", str(cfg), "--smooth", "0.5,1"])
    assert (stage.config.world.min_cutoff, stage.config.world.beta, stage.config.world.d_cutoff) == (0.5, 1.0, 2.0)
    off = tmp_path / "off.toml"
    off.write_text("[smooth]\nenabled = false\n")
    assert _stages(["--config", str(off)]) == []


@pytest.mark.parametrize(
    "text, match",
    [
        ("[smooth\nbeta = 1", "not valid TOML"),
        ("[smooth]\nbeta = 1\nspeed = 3\n", "unknown key"),
        ("[smooth]\nbeta = 'high'\n", "must be a number"),
        ("[smooth]\nmin_cutoff = 0\n", "min_cutoff"),
        ("[smooth]\nenabled = 1\n", "true or false"),
        ("smooth = 3\n", "must be a table"),
        ("[smoth]\nbeta = 1\n", "unknown table \\[smoth\\]"),
    ],
)
def test_bad_toml_raises_config_error(tmp_path, text, match):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=match):
        _stages(["--config", str(cfg)])


def test_no_smooth_with_smooth_contradicts():
    with pytest.raises(ConfigError, match="contradict"):
        _stages(["--no-smooth", "--smooth", "0.1,4"])


def test_missing_config_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        _stages(["--config", str(tmp_path / "nope.toml")])


def test_cli_bad_values_exit_2_with_one_line(tmp_path, capsys, media):
    img = str(media / "images" / "person_squat_pexels4384679.png")
    bad = tmp_path / "bad.toml"
    bad.write_text("[smooth]\nfoo = 1\n")
    for argv in (["--smooth", "fast"], ["--config", str(bad)]):
        assert main(["run", img, "--no-progress", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("arpose: error:")
