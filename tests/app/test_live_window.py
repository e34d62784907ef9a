"""``arpose live`` in a real window: an X server (Xvfb), the pip OpenCV wheel's Qt backend,
keys sent with xdotool, screenshots with ImageMagick's ``import``.

Needs the Debian packages xvfb, xdotool and imagemagick (``.ci/run`` installs them). Without
them the test is skipped locally and fails in CI (``CI`` set), so it can never silently pass.
Run it locally: ``apt-get install xvfb xdotool imagemagick`` then
``python -m pytest tests/app/test_live_window.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from arpose._cv import cv2

pytestmark = pytest.mark.slow

TOOLS = ("Xvfb", "xdotool", "import")
PHOTO = "person_standing_businessman_pixabay.jpg"  # 399x640, one person, standing


@pytest.fixture(scope="module")
def display():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install xvfb, xdotool and imagemagick (missing: {', '.join(missing)})")
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb xdotool imagemagick)")
    number = 90 + os.getpid() % 100
    name = f":{number}"
    server = subprocess.Popen(
        ["Xvfb", name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("Xvfb did not start")
        time.sleep(0.05)
    env = dict(os.environ, DISPLAY=name, QT_X11_NO_MITSHM="1")
    yield env
    server.terminate()
    server.wait(timeout=10)


def _x(env, *args, timeout=20.0) -> str:
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True, timeout=timeout).stdout


def _geometry(env, wid) -> tuple[int, int, int, int]:
    out = dict(
        line.split("=", 1) for line in _x(env, "xdotool", "getwindowgeometry", "--shell", wid).split() if "=" in line
    )
    return int(out["X"]), int(out["Y"]), int(out["WIDTH"]), int(out["HEIGHT"])


def _shot(env, wid) -> np.ndarray:
    """The window's pixels (BGR) as the X server shows them."""
    png = subprocess.run(
        ["import", "-window", "root", "png:-"], env=env, check=True, capture_output=True, timeout=20
    ).stdout
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    x, y, w, h = _geometry(env, wid)
    return image[y : y + h, x : x + w]


def _until(env, wid, tmp_path, condition, what: str, timeout: float) -> np.ndarray:
    """Screenshots until ``condition(shot)`` holds (the machine may be loaded), or fail with
    the last screenshot saved."""
    deadline = time.monotonic() + timeout
    while True:
        shot = _shot(env, wid)
        if condition(shot):
            return shot
        if time.monotonic() > deadline:
            cv2.imwrite(str(tmp_path / "last_shot.png"), shot)
            pytest.fail(f"the window never showed {what} (last screenshot: {tmp_path / 'last_shot.png'})")
        time.sleep(0.3)


def _press(env, wid, key: str) -> None:
    _x(env, "xdotool", "windowfocus", "--sync", wid)
    _x(env, "xdotool", "key", key)


def _gold_pixels(region: np.ndarray) -> int:
    """How many pixels are the crown's gold (BGR: strong red and green, little blue)."""
    b, g, r = (region[..., i].astype(int) for i in range(3))
    return int(np.sum((r > 170) & (g > 120) & (b < 90)))


def _content_box(shot: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box of what is not the window's plain background (the shown image)."""
    background = shot[0, 0].astype(int)
    differs = np.abs(shot.astype(int) - background).sum(axis=2) > 30
    ys, xs = np.nonzero(differs)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def test_every_key_works_in_a_real_window(display, media, tmp_path):
    takes = tmp_path / "takes"
    takes.mkdir()
    cmd = [
        sys.executable, "-m", "arpose", "live", "--input", str(media / "images" / PHOTO), "--loop",
        "--props", "crown", "--no-mirror", "--take-dir", str(takes),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=display, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wid = _x(display, "xdotool", "search", "--sync", "--name", "^arpose live$", timeout=60).split()[0]
        _x(display, "xdotool", "windowfocus", "--sync", wid)

        def until(condition, what: str, timeout: float = 45.0) -> np.ndarray:
            return _until(display, wid, tmp_path, condition, what, timeout)

        first = _shot(display, wid)
        h, w = first.shape[:2]
        assert (w, h) == (399, 640)  # the window opens at the image's size
        body = (slice(int(0.25 * h), int(0.95 * h)), slice(int(0.2 * w), int(0.8 * w)))  # away from the HUD text
        head = (slice(0, int(0.2 * h)), slice(int(0.25 * w), int(0.75 * w)))  # the HUD's text is never gold

        def gold(shot) -> int:
            return _gold_pixels(shot[head])

        crown = until(lambda shot: gold(shot) > 200, "the crown")
        # p cycles the prop sets: (crown,) -> each other prop alone -> ... ; o goes back to the crown.
        _press(display, wid, "p")
        until(lambda shot: gold(shot) < 0.1 * gold(crown), "the crown taken off by p")
        _press(display, wid, "o")
        until(lambda shot: gold(shot) > 0.7 * gold(crown), "the crown back on with o")

        def skeleton_pixels(shot) -> int:
            """The skeleton's cyan lines (BGR: strong blue and green, little red)."""
            b, g, r = (shot[body][..., i].astype(int) for i in range(3))
            return int(np.sum((b > 200) & (g > 150) & (r < 80)))

        drawn = until(lambda shot: skeleton_pixels(shot) > 500, "the skeleton")
        _press(display, wid, "s")
        until(lambda shot: skeleton_pixels(shot) < 0.02 * skeleton_pixels(drawn), "the skeleton hidden by s")
        _press(display, wid, "s")
        until(lambda shot: skeleton_pixels(shot) > 500, "the skeleton back with s")

        _press(display, wid, "r")
        time.sleep(1.5)
        _press(display, wid, "r")
        time.sleep(0.5)

        # Resizable, keeping the aspect ratio: a wide window shows the image letterboxed, not stretched.
        _x(display, "xdotool", "windowsize", wid, "900", "500")
        wide = until(lambda shot: shot.shape[:2] == (500, 900), "the window resized to 900x500")
        time.sleep(1.0)
        wide = _shot(display, wid)
        x0, y0, x1, y1 = _content_box(wide)
        assert (x1 - x0) / (y1 - y0) == pytest.approx(399 / 640, rel=0.06)

        _press(display, wid, "q")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    saved = sorted(takes.glob("take-*.take"))
    assert len(saved) == 1 and "saved " in err  # the record key started and stopped a take
    from arpose.record.take import read_take

    assert len(read_take(saved[0]).frames) >= 10


def test_hands_face_and_neutral_face_keys_in_a_real_window(display, media, tmp_path):
    """g and f hide and show the hands and the face outline (``--holistic``) in the window, n
    restarts the neutral-face calibration (its status line)."""
    cmd = [
        sys.executable, "-m", "arpose", "live", "--input", str(media / "images" / "person_arms_up_frame045.png"),
        "--loop", "--holistic", "--no-mirror",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=display, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # 576x576: both hands raised above the head, the face (a dark hood) at about (280, 215)
    hands = (slice(95, 165), slice(195, 375))
    face = (slice(190, 240), slice(255, 305))

    def hand_points(shot) -> int:
        """Green pixels (confident points: the hands' 21 each, the wrists') above the head."""
        b, g, r = (shot[hands][..., i].astype(int) for i in range(3))
        return int(np.sum((g > 180) & (b < 100) & (r < 150)))

    def face_lines(shot) -> int:
        """Light grey pixels (the face outline, render.draw.FACE_COLOR) on the dark head."""
        region = shot[face].astype(int)
        return int(np.sum((region.max(axis=2) - region.min(axis=2) < 25) & (region.mean(axis=2) > 150)))

    try:
        wid = _x(display, "xdotool", "search", "--sync", "--name", "^arpose live$", timeout=60).split()[0]
        _x(display, "xdotool", "windowfocus", "--sync", wid)

        def until(condition, what: str, timeout: float = 60.0) -> np.ndarray:
            return _until(display, wid, tmp_path, condition, what, timeout)

        # measured on this photo: about 560 green pixels with the hands' points, 350 without
        # (the wrists and elbows stay); about 510 light pixels on the head with the face, 450 without
        both = until(lambda shot: hand_points(shot) > 450, "the hands' points")
        time.sleep(2.0)  # the face outline settles too
        both = _shot(display, wid)
        with_hands, with_face = hand_points(both), face_lines(both)
        _press(display, wid, "g")
        until(lambda shot: hand_points(shot) < 0.75 * with_hands, "the hands hidden by g")
        _press(display, wid, "f")
        until(lambda shot: face_lines(shot) < with_face - 30, "the face hidden by f")
        # one key at a time: the window reads one key a frame (cv2.waitKey), and two keys sent
        # within a frame were seen to lose one
        _press(display, wid, "g")
        until(lambda shot: hand_points(shot) > 0.9 * with_hands, "the hands back with g")
        _press(display, wid, "f")
        until(lambda shot: face_lines(shot) > with_face - 10, "the face back with f")
        _press(display, wid, "n")
        time.sleep(1.0)
        _press(display, wid, "q")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "neutral face: calibrating" in err
