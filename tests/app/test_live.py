"""``arpose live``: the key state machine, and the live loop headless on a real video."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from arpose._cv import cv2
from arpose.app.cli import main
from arpose.app.cmd_live import (
    ESC,
    HELP,
    LiveState,
    drawing_hint,
    handle_key,
    parse_keys,
    prop_cycle,
    recalibrate,
)
from arpose.errors import ConfigError
from arpose.spec import PipelineSpec


def _state(**kw):
    return LiveState(prop_sets=prop_cycle(["crown", "glasses"], ["crown", "glasses", "cape"]), **kw)


def test_prop_cycle_starts_with_the_request_then_each_prop_then_none():
    assert prop_cycle(["crown", "glasses"], ["crown", "glasses", "cape"]) == (
        ("crown", "glasses"),
        ("crown",),
        ("glasses",),
        ("cape",),
        (),
    )
    assert prop_cycle(["cape"], ["crown", "cape"]) == (("cape",), ("crown",), ())
    assert prop_cycle([], ["crown"]) == ((), ("crown",))


def test_keys_cycle_props_both_ways():
    s = _state()
    assert s.props == ("crown", "glasses")
    for expected in (("crown",), ("glasses",), ("cape",), (), ("crown", "glasses")):
        s, action = handle_key(s, ord("p"))
        assert s.props == expected and action is None
    s, _ = handle_key(s, ord("o"))  # o: previous (the documented key; Qt delivers P as p)
    assert s.props == ()
    s, _ = handle_key(s, ord("P"))  # P still goes back where a backend delivers it
    assert s.props == ("cape",)


def test_toggles_record_and_quit():
    s = _state()
    s, _ = handle_key(s, ord("s"))
    assert not s.skeleton
    s, _ = handle_key(s, ord("s"))
    assert s.skeleton
    avatars = []
    for _ in range(3):
        s, _ = handle_key(s, ord("a"))
        avatars.append(s.avatar)
    assert avatars == ["beside", "over", None]
    s, _ = handle_key(s, ord("m"))
    assert not s.mirror
    s, _ = handle_key(s, ord("h"))
    assert s.help
    s2, action = handle_key(s, ord("r"))
    assert action == "take" and s2 == s  # recording is the caller's job
    for none in (-1, 255, ord("z")):
        assert handle_key(s, none) == (s, None)
    assert handle_key(s, ord("q"))[0].quit and handle_key(s, ESC)[0].quit


def test_parse_keys():
    assert parse_keys("3:p, 3:a,10:q") == {3: [ord("p"), ord("a")], 10: [ord("q")]}
    assert parse_keys(None) == {}
    for bad in ("p", "x:p", "3:pp", "3:"):
        with pytest.raises(ConfigError, match="FRAME:KEY"):
            parse_keys(bad)


def test_live_headless_on_a_video_cycles_records_and_mirrors(media, tmp_path, capsys):
    video = media / "videos" / "single_armsup_oneleg.mp4"
    out = tmp_path / "live.mp4"
    takes = tmp_path / "takes"
    takes.mkdir()
    code = main(
        [
            "live",
            "--input",
            str(video),
            "--headless",
            "--out",
            str(out),
            "--props",
            "crown",
            "--keys",
            "2:r,5:a,8:r,12:q",
            "--take-dir",
            str(takes),
            "--no-progress",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "recording" in err and "saved" in err
    assert len(list(takes.glob("*.take"))) == 1
    cap = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    cap.release()
    assert len(frames) == 13  # frames 0..12, quit on 12
    # the mirror: compare with the source frame flipped (below the HUD, away from overlays)
    src = cv2.VideoCapture(str(video))
    ok, first = src.read()
    src.release()
    band = (slice(520, 570), slice(0, 100))
    flipped = first[:, ::-1][band].astype(int)
    assert np.abs(frames[0][band].astype(int) - flipped).mean() < 6
    assert (
        np.abs(frames[0][band].astype(int) - first[band].astype(int)).mean()
        > 2 * np.abs(frames[0][band].astype(int) - flipped).mean()
    )


def test_live_without_a_display_says_what_to_do(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["live", "--camera", "0"]) == 2
    assert "--headless" in capsys.readouterr().err


def test_run_with_unknown_prop_or_no_output_fails_cleanly(media, tmp_path, capsys):
    image = str(media / "images" / "person_yoga_warrior2_beach.jpg")
    assert main(["run", image, "--props", "crown,halo", "--out", str(tmp_path / "a.png")]) == 2
    assert "unknown prop(s) halo" in capsys.readouterr().err
    assert main(["run", image, "--props", "crown"]) == 2
    assert "add --out" in capsys.readouterr().err
    assert main(["run", image, "--props-manifest", str(tmp_path / "none.json"), "--out", str(tmp_path / "b.png")]) == 2
    assert "--props" in capsys.readouterr().err


def test_help_goes_where_it_covers_nobody():
    from arpose.render.draw import hud_size, least_covered_corner

    shape = (480, 640, 3)
    block = hud_size(shape, ["p/o next/previous props", "s skeleton  a avatar"])
    assert 0 < block[0] < 640 and 0 < block[1] < 480
    assert least_covered_corner(shape, block, []) == "top-left"  # nobody: the first corner
    left_person = [(0.0, 0.0, 300.0, 480.0)]
    assert least_covered_corner(shape, block, left_person) == "top-right"
    everywhere_but_bottom_right = [(0, 0, 640, 300), (0, 300, 400, 480)]
    assert least_covered_corner(shape, block, everywhere_but_bottom_right) == "bottom-right"


def test_people_boxes_follow_the_mirror():
    import numpy as np

    from arpose.app.cmd_live import people_boxes
    from arpose.types import Frame, Person, PoseFrame

    lm = np.full((33, 5), np.nan, np.float32)
    lm[:, :2] = np.linspace([0.1, 0.2], [0.3, 0.8], 33)
    lm[:, 3] = 1.0
    pf = PoseFrame(
        Frame(np.zeros((100, 200, 3), np.uint8), 0.0, 0), (Person(0, lm, np.zeros((33, 3), np.float32), 1.0),)
    )
    ((x0, y0, x1, y1),) = people_boxes(pf)
    assert x0 < 20 < 60 < x1 < 70 and y0 < 20 and y1 > 80  # x 20..60 px, widened by a tenth
    ((mx0, _, mx1, _),) = people_boxes(pf, mirror=True)
    assert mx0 == pytest.approx(200 - x1) and mx1 == pytest.approx(200 - x0)


def test_hands_face_and_neutral_face_keys():
    s = _state()
    assert s.hands and s.face
    s, action = handle_key(s, ord("g"))
    assert not s.hands and s.face and action == "hands"
    s, action = handle_key(s, ord("f"))
    assert not s.hands and not s.face and action == "face"
    s, _ = handle_key(s, ord("g"))
    s, _ = handle_key(s, ord("f"))
    assert s.hands and s.face
    s2, action = handle_key(s, ord("n"))
    assert action == "calibrate" and s2 == s  # the stage's job (recalibrate)
    assert any("g hands" in line and "f face" in line and "n neutral" in line for line in HELP)
    used = {ch for line in HELP for ch in line.split() if len(ch) == 1}
    assert {"g", "f", "n"} <= used


def test_hands_and_face_keys_say_when_nothing_is_tracked():
    body = PipelineSpec()
    assert drawing_hint("hands", body) == (
        "no hands tracking: run with --hands or --holistic (this key shows or hides their drawing)"
    )
    assert "--face or --holistic" in drawing_hint("face", body)
    holistic = replace(body, estimator=replace(body.estimator, hands=True, face=True))
    assert drawing_hint("hands", holistic) is None and drawing_hint("face", holistic) is None


def test_the_neutral_face_key_restarts_the_hands_face_stages_calibration():
    import sys
    from pathlib import Path

    from arpose.landmarks import empty_image_landmarks, empty_world_landmarks
    from arpose.pipeline import Pipeline
    from arpose.retarget.hands_face import HandsFaceStage
    from arpose.types import Frame, Person, PoseFrame

    sys.path.insert(0, str(Path(__file__).parents[1] / "retarget"))
    from test_face import SIZE, synthetic_face

    stage = HandsFaceStage()
    pipeline = Pipeline(None, [stage])
    person = Person(0, empty_image_landmarks(), empty_world_landmarks(), 0.0, face=synthetic_face())

    def pose(t: float, i: int):
        frame = PoseFrame(Frame(np.zeros((SIZE[1], SIZE[0], 3), np.uint8), t, i), (person,))
        return stage.process(frame).people[0].face_pose

    for i in range(75):
        fp = pose(i / 30.0, i)
    assert fp.calibrated
    assert "calibrating" in recalibrate(pipeline)
    assert not pose(2.6, 78).calibrated  # started afresh
    assert "--face" in recalibrate(Pipeline(None, []))  # no hands_face stage: says how to get one
