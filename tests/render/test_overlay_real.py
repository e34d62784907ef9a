"""Props on real photographs through the real pipeline (BlazePose with segmentation,
smoothing, retargeting): a prop attached to the head lands in the head's region, and with no
props the output is exactly the skeleton-only output."""

from __future__ import annotations

import numpy as np
import pytest

from arpose.app.cli import build_parser
from arpose.app.runner import spec_from_args, with_mode
from arpose.build import OverlayRenderer, build_pipeline, camera_for, make_renderer, skeleton_renderer
from arpose.landmarks import PoseLandmark as L
from arpose.source import open_source
from arpose.spec import RunningMode

IMAGES = ["person_yoga_warrior2_beach.jpg", "person_standing_businessman_pixabay.jpg", "person_arms_up_frame045.png"]


def _analyse(media, name, *extra):
    path = str(media / "images" / name)
    args = build_parser().parse_args(["run", path, *extra])
    source = open_source(path)
    spec = with_mode(spec_from_args(args), RunningMode.for_source(source))
    camera = camera_for(spec, source)
    pipeline = build_pipeline(spec, source, camera, renderer=skeleton_renderer)
    try:
        frame = next(iter(source))
        pf = pipeline.analyze(frame)
    finally:
        pipeline.close()
        source.close()
    return spec, camera, pf


def _head_box(person, w, h):
    """Pixel box of the head from the face landmarks, widened by a head's size each
    side and two head sizes upwards. The head's size is the largest of the ear-to-ear distance,
    twice the nose-to-ear-centre distance (a head in profile) and 0.45 shoulder widths."""
    px = person.pixels(w, h)
    face = px[[L.NOSE, L.LEFT_EAR, L.RIGHT_EAR, L.LEFT_EYE, L.RIGHT_EYE, L.MOUTH_LEFT, L.MOUTH_RIGHT]]
    ears = 0.5 * (px[L.LEFT_EAR] + px[L.RIGHT_EAR])
    size = max(
        np.linalg.norm(px[L.LEFT_EAR] - px[L.RIGHT_EAR]),
        2.0 * np.linalg.norm(px[L.NOSE] - ears),
        0.45 * np.linalg.norm(px[L.LEFT_SHOULDER] - px[L.RIGHT_SHOULDER]),
    )
    lo = face.min(axis=0) - [size, 2.0 * size]
    hi = face.max(axis=0) + [size, 0.5 * size]
    return lo, hi, size


@pytest.mark.parametrize(
    "name, retarget",
    [(n, True) for n in IMAGES] + [(IMAGES[1], False)],
    ids=[f"retargeted-{n}" for n in IMAGES] + [f"no-retarget-stage-{IMAGES[1]}"],
)
def test_crown_lands_on_the_head_in_real_photos(media, name, retarget):
    spec, camera, pf = _analyse(media, name, "--props", "crown", *([] if retarget else ["--no-retarget"]))
    assert len(pf.people) == 1
    person = pf.people[0]
    assert (person.body is not None) == retarget
    assert person.mask is not None  # props switched segmentation on
    plain = skeleton_renderer(pf, 30.0)
    renderer = make_renderer(spec, camera)
    try:
        worn = renderer(pf, 30.0)
    finally:
        renderer.close()
    changed = np.any(worn != plain, axis=2)
    h, w = plain.shape[:2]
    lo, hi, size = _head_box(person, w, h)
    ys, xs = np.nonzero(changed)
    assert xs.size > 0.5 * size**2  # a crown-sized patch was drawn
    inside = (xs >= lo[0]) & (xs <= hi[0]) & (ys >= lo[1]) & (ys <= hi[1])
    assert inside.mean() > 0.99
    eyes_y = person.pixels(w, h)[[L.LEFT_EYE, L.RIGHT_EYE], 1].mean()
    assert np.median(ys) < eyes_y  # worn above the eyes


def test_no_props_output_equals_skeleton_only_on_a_real_photo(media):
    spec, camera, pf = _analyse(media, IMAGES[0])
    assert make_renderer(spec, camera) is skeleton_renderer  # no overlay stage at all
    from arpose.render.overlay import PropRenderer

    with PropRenderer(camera, []) as empty:
        np.testing.assert_array_equal(OverlayRenderer(skeleton_renderer, empty)(pf, 12.0), skeleton_renderer(pf, 12.0))
