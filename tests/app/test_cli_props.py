"""``arpose run VIDEO --props ... --avatar --out`` end to end on a real clip."""

from __future__ import annotations

import pytest

from arpose._cv import cv2
from arpose.app.cli import main


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


@pytest.mark.slow
def test_run_video_with_props_and_avatar(media, tmp_path, capsys):
    video = media / "videos" / "single_dance_woman.mp4"
    out = tmp_path / "props.mp4"
    assert main(["run", str(video), "--props", "crown,cape,sword", "--avatar", "--out", str(out), "--no-progress"]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    assert _frames(out) == _frames(video)
