"""Fixtures for the evaluation tests: the synthetic performer's truth without rendering."""

from __future__ import annotations

import numpy as np
import pytest

from arpose.performer import PerformerSource
from arpose.types import Frame


class BlankClip:
    """A performer source's motion, camera, rate and truth with black frames, for stand-in
    estimators that never look at the pixels: nothing is rendered."""

    def __init__(self, performer: PerformerSource):
        self.motion, self.camera, self.fps, self.size = (
            performer.motion,
            performer.camera,
            performer.fps,
            performer.size,
        )
        self.truth, self.frame_count = performer.truth, performer.frame_count

    def __iter__(self):
        w, h = self.size
        for i, t in enumerate(self.truth.timestamps):
            yield Frame(np.zeros((h, w, 3), np.uint8), float(t), i)


@pytest.fixture(scope="session")
def blank_clip() -> BlankClip:
    """1 s of the jumping jack at 30 fps, 640x480, unrendered."""
    src = PerformerSource("jumping_jack", seconds=1.0, fps=30.0)
    try:
        return BlankClip(src)
    finally:
        src.close()
