"""Props on the synthetic performer, whose head pose is known exactly: through the real
pipeline (BlazePose with segmentation, smoothing, retargeting) the crown lands where the
ground-truth skeleton puts it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.app.cli import build_parser
from arpose.app.runner import spec_from_args
from arpose.build import build_pipeline, make_renderer, skeleton_renderer
from arpose.performer import PerformerSource
from arpose.render.frames import BodyFrames
from arpose.render.overlay import OverlayConfig, PropRenderer, project_world
from arpose.render.props import load_manifest, select_props
from arpose.skeleton import BONE_INDEX, REST_OFFSETS


@pytest.fixture(scope="module")
def performer_frames(tmp_path_factory):
    source = PerformerSource("wave", seconds=0.6, fps=10)
    out = tmp_path_factory.mktemp("overlay") / "unused.mp4"
    args = build_parser().parse_args(["run", "performer", "--props", "crown", "--no-occlusion"])
    spec = spec_from_args(args)
    pipeline = build_pipeline(spec, source, source.camera, renderer=skeleton_renderer)
    try:
        out = [(pipeline.analyze(frame), source.ground_truth(frame.index)) for frame in source]
    finally:
        pipeline.close()
    return spec, source.camera, out


def _crown_pixels(image, reference):
    ys, xs = np.nonzero(np.any(image != reference, axis=2))
    return xs, ys


def test_crown_on_the_performer_matches_the_ground_truth_head(performer_frames):
    spec, camera, frames = performer_frames
    crown = select_props("crown", load_manifest())
    renderer = make_renderer(spec, camera)
    errors = []
    with PropRenderer(camera, crown, OverlayConfig(occlusion=False)) as truth_renderer:
        for pf, gt in frames[2:]:  # after the first frames the tracker and filters have settled
            assert len(pf.people) == 1 and pf.people[0].body is not None
            plain = skeleton_renderer(pf, 10.0)
            xs, ys = _crown_pixels(renderer(pf, 10.0), plain)
            # the same crown on the exact skeleton (no occlusion: only its placement matters here)
            scale = np.linalg.norm(gt.offsets[1:5].sum(axis=0)) / np.linalg.norm(REST_OFFSETS[1:5].sum(axis=0))
            exact = BodyFrames(gt.joint_positions, gt.joint_rotations, gt.local_rotations, float(scale))
            image = pf.frame.image
            tx, ty = _crown_pixels(truth_renderer.render(image, pf.people, frames=[exact]), image)
            head = gt.joint_positions[BONE_INDEX["Head"]]
            r_head = Rotation.from_quat(gt.joint_rotations[BONE_INDEX["Head"]])
            box = head + r_head.apply(
                np.array([[sx, sy, sz] for sx in (-0.16, 0.16) for sy in (-0.05, 0.26) for sz in (-0.16, 0.16)]) * scale
            )
            px, _ = project_world(box, camera)
            lo, hi = px.min(axis=0), px.max(axis=0)
            inside = (xs >= lo[0]) & (xs <= hi[0]) & (ys >= lo[1]) & (ys <= hi[1])
            assert xs.size > 100 and inside.mean() > 0.98
            head_px = (hi[0] - lo[0]) / 2.0  # the box is two heads (2 x 16 cm) wide
            errors.append(np.hypot(xs.mean() - tx.mean(), ys.mean() - ty.mean()) / head_px)
    # measured: about a quarter of a head's width (4 cm), mostly upwards: the estimated head
    # joint sits a little higher than the mannequin's
    assert np.median(errors) < 0.35
