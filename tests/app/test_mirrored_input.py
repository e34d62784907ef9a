"""``--mirrored-input``: input frames that are already mirrored (a webcam app that flips) are
flipped back before estimation, so the subject's sides are the same as in the camera's own
view, for the hands (whose model labels hands as if the image were a mirrored selfie) and the
body alike; the option in the CLI, the spec's validation and its TOML round trip."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from arpose._cv import cv2
from arpose.app.cli import build_parser
from arpose.app.runner import spec_from_args
from arpose.errors import ConfigError
from arpose.landmarks import PoseLandmark as L
from arpose.spec import PipelineSpec, RunningMode, spec_from_dict, spec_from_toml, spec_to_dict, spec_to_toml
from arpose.types import Frame


def test_the_option_sets_the_spec_and_round_trips_through_toml():
    args = build_parser().parse_args(["run", "clip.mp4", "--hands", "--mirrored-input"])
    spec = spec_from_args(args)
    assert spec.estimator.mirrored_input and spec.estimator.hands
    assert not spec_from_args(build_parser().parse_args(["run", "clip.mp4"])).estimator.mirrored_input
    assert spec_from_dict(spec_to_dict(spec)).estimator.mirrored_input
    text = spec_to_toml(spec)
    assert "mirrored_input = true" in text and spec_from_toml(text) == spec
    assert spec_from_toml("[estimator]\nmirrored_input = true\n").estimator.mirrored_input
    with pytest.raises(ConfigError, match="mirrored_input"):
        spec_from_dict({"estimator": {"mirrored_input": "yes"}})
    with pytest.raises(ConfigError, match="mirrored-input"):
        replace(PipelineSpec(), estimator=replace(PipelineSpec().estimator, mirrored_input=1)).validate()


def _estimate(image: np.ndarray, mirrored: bool):
    from arpose.build import make_estimator

    spec = PipelineSpec()
    spec = replace(spec, estimator=replace(spec.estimator, mode=RunningMode.IMAGE, hands=True, mirrored_input=mirrored))
    estimator = make_estimator(spec)
    try:
        return estimator.process(Frame(image, 0.0, 0))
    finally:
        estimator.close()


@pytest.mark.slow
def test_a_flipped_hand_photo_with_the_option_gives_the_unflipped_photos_sides(media):
    image = cv2.imread(str(media / "images" / "hand_pointing_tfjs_asl_f147.jpg"))
    flipped = np.ascontiguousarray(cv2.flip(image, 1))

    def seen(pf) -> list[int]:
        (person,) = pf.people
        return [side for side in range(2) if np.isfinite(person.hands[side]).all()]

    plain = _estimate(image, mirrored=False)
    assert seen(plain) == [1]  # the subject's right hand (docs/hands_face.md)
    naive = _estimate(flipped, mirrored=False)
    assert seen(naive) == [0]  # a flipped photo read as a camera image: the other hand
    fixed = _estimate(flipped, mirrored=True)
    assert seen(fixed) == [1]
    # the body too: the same subject, the same sides, on the camera's own (unflipped) view
    np.testing.assert_array_equal(fixed.frame.image, image)
    np.testing.assert_allclose(fixed.people[0].landmarks, plain.people[0].landmarks, atol=1e-5, equal_nan=True)
    assert fixed.people[0].landmarks[L.LEFT_WRIST, 0] == pytest.approx(plain.people[0].landmarks[L.LEFT_WRIST, 0])
