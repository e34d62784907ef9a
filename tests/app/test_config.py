"""--config FILE.toml covers the whole spec, --print-config writes it, and bad settings are
one-line errors (exit 2) before any output file exists."""

import pytest

from arpose.app.cli import build_parser, main
from arpose.app.runner import spec_from_args
from arpose.spec import PipelineSpec, VmcOutput, spec_from_toml


def _spec(*argv):
    return spec_from_args(build_parser().parse_args(["run", "in.mp4", *argv]))


def test_print_config_round_trips_through_config(tmp_path, capsys, media):
    clip = str(media / "videos" / "single_squats_5fps.mp4")
    argv = ["--props", "crown", "--out", str(tmp_path / "o.mp4"), "--vmc", "127.0.0.1:39540", "--smooth", "3,5"]
    assert main(["run", clip, *argv, "--max-people", "2", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # printing the settings runs nothing and writes nothing
    printed = spec_from_toml(text)
    assert printed.output("vmc") == VmcOutput("127.0.0.1", 39540)
    assert printed.overlay.props == ("crown",) and printed.smooth.min_cutoff == 3.0
    assert printed.estimator.max_people == 2 and printed.estimator.mode.value == "video"
    cfg = tmp_path / "setup.toml"
    cfg.write_text(text, encoding="utf-8")
    assert _spec("--config", str(cfg)) == printed


def test_command_line_wins_over_the_file_which_wins_over_defaults(tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text(
        "[smooth]\nbeta = 4\n[retarget]\nsubject_height = 1.6\n[outputs.osc]\nport = 9100\n[camera]\nfov = 70\n"
    )
    spec = _spec("--config", str(cfg), "--subject-height", "1.8")
    assert spec.smooth.beta == 4.0 and spec.smooth.min_cutoff == PipelineSpec().smooth.min_cutoff
    assert spec.retarget.subject_height == 1.8 and spec.camera.fov == 70.0
    assert spec.output("osc").port == 9100
    assert _spec("--config", str(cfg), "--fov", "50").camera.fov == 50.0


@pytest.mark.parametrize(
    "argv, first_words",
    [
        (["--vmc", ""], "arpose: error: --vmc: empty address"),
        (["--osc", ""], "arpose: error: --osc: empty address"),
        (["--props", ""], "arpose: error: --props wants names"),
        (["--props", "crown,,glasses", "--out", "o.mp4"], "arpose: error: --props wants names"),
        (["--max-people", "x"], "arpose: error: argument --max-people: invalid int value"),
        (["--no-such-option"], "arpose: error: unrecognized arguments: --no-such-option"),
        (["--bvh-person", "1"], "arpose: error: --bvh-person needs --bvh"),
        (["--osc-rate", "10"], "arpose: error: --osc-rate needs --vmc or --osc"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path, capsys, media, argv, first_words):
    clip = str(media / "images" / "person_squat_pexels4384679.png")
    with pytest.raises(SystemExit) as info:
        code = main(["run", clip, "--csv", str(tmp_path / "a.csv"), *argv])
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(first_words), err
    assert list(tmp_path.iterdir()) == []  # refused before any output file was created


@pytest.mark.parametrize(
    "text, words",
    [
        ("[smoth]\nbeta = 1\n", "unknown table [smoth]"),
        ("[outputs.video]\npath = 3\n", "[outputs.video] path must be a string"),
        ("[overlay]\nprops = ['crown']\n", "--props and --avatar draw on the output video"),
    ],
)
def test_bad_config_files_fail_before_outputs(tmp_path, capsys, media, text, words):
    clip = str(media / "images" / "person_squat_pexels4384679.png")
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", clip, "--csv", str(out / "a.csv"), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]
    assert list(out.iterdir()) == []
