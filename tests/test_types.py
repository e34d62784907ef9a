import numpy as np
import pytest

from arpose.errors import ConfigError
from arpose.types import Camera


def test_camera_from_fov_and_projection():
    cam = Camera.from_fov(640, 480, 90.0)
    assert np.isclose(cam.fx, 320.0) and cam.cx == 320 and cam.cy == 240
    assert np.isclose(cam.hfov_deg, 90.0)
    px = cam.project(np.array([[0.0, 0.0, 2.0], [1.0, -0.5, 2.0]]))
    assert np.allclose(px, [[320, 240], [480, 160]])


def test_camera_rejects_bad_fov():
    with pytest.raises(ConfigError, match="field of view"):
        Camera.from_fov(640, 480, 0.0)
