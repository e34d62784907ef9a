"""--hands / --face / --holistic: options to the spec, the spec to stages and estimator."""

from __future__ import annotations

import argparse

import pytest

from arpose.app import feat_holistic
from arpose.app.runner import OPTION_MODULES, add_feature_options, spec_from_args
from arpose.build import make_stages, with_hands_face
from arpose.spec import PipelineSpec, RunningMode, spec_from_toml, spec_to_toml
from arpose.types import Camera


def _spec(*argv: str) -> PipelineSpec:
    parser = argparse.ArgumentParser()
    add_feature_options(parser)
    return spec_from_args(parser.parse_args(list(argv)))


@pytest.mark.parametrize(
    ("argv", "hands", "face"),
    [((), False, False), (("--hands",), True, False), (("--face",), False, True), (("--holistic",), True, True)],
)
def test_options_set_the_estimator(argv, hands, face):
    spec = _spec(*argv)
    assert (spec.estimator.hands, spec.estimator.face) == (hands, face)
    assert spec_from_toml(spec_to_toml(spec)) == spec
    assert feat_holistic in OPTION_MODULES


def test_hand_model_option():
    assert _spec("--hands", "--hand-model", "lite").estimator.hand_model == "lite"
    assert _spec("--hands").estimator.hand_model == "full"
    from dataclasses import replace

    from arpose.errors import ConfigError

    bad = PipelineSpec()
    bad = replace(bad, estimator=replace(bad.estimator, hand_model="huge"))
    with pytest.raises(ConfigError, match="--hand-model"):
        bad.validate()


def test_stages_and_estimator_follow_the_spec():
    camera = Camera.from_fov(640, 480)
    off = PipelineSpec()
    assert "hands_face" not in [s.name for s in make_stages(off, camera)]
    sentinel = object()
    assert with_hands_face(off, sentinel) is sentinel  # body only: the pose estimator itself
    on = _spec("--face")
    names = [s.name for s in make_stages(on, camera)]
    assert names[-2:] == ["retarget", "hands_face"]
    still = _spec("--hands")
    from dataclasses import replace

    still = replace(still, estimator=replace(still.estimator, mode=RunningMode.IMAGE))
    stage = make_stages(still, camera)[-1]
    assert stage.name == "hands_face" and stage.independent_frames
