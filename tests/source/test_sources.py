import numpy as np
import pytest

from arpose._cv import cv2
from arpose.errors import InputError
from arpose.source import CameraSource, FolderSource, ImageSource, VideoSource, open_source


def test_video_timestamps_come_from_the_container_and_increase(media):
    src = open_source(str(media / "videos" / "single_squats_5fps.mp4"))
    assert isinstance(src, VideoSource) and src.fps == pytest.approx(5.0)
    frames = list(src)
    assert len(frames) == 65
    t = np.array([f.timestamp for f in frames])
    assert np.all(np.diff(t) > 0)
    assert np.allclose(np.diff(t), 0.2, atol=1e-3)  # 5 fps source
    assert [f.index for f in frames] == list(range(65))


def test_image_and_folder_sources(media, tmp_path):
    img = open_source(str(media / "images" / "person_squat_pexels4384679.png"))
    assert isinstance(img, ImageSource) and not img.is_sequence
    (frame,) = list(img)
    assert frame.image.shape == (244, 198, 3) and frame.timestamp == 0.0
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"f{i:02d}.png"), np.full((40 + i, 30, 3), i * 50, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    folder = open_source(str(tmp_path), fps=10.0)
    assert isinstance(folder, FolderSource) and folder.frame_count == 3
    frames = list(folder)
    assert [f.timestamp for f in frames] == pytest.approx([0.0, 0.1, 0.2])
    assert all(f.image.shape == (40, 30, 3) for f in frames)  # later images resized to the first


def _file(path, content):
    if content is None:
        path.mkdir()
    elif content != "absent":
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.mp4", "absent", "input not found"),
        ("zero.mp4", b"", "empty \\(0 bytes\\)"),
        ("text.mp4", b"hello, not a video\n", "cannot decode video"),
        ("bad.png", b"hello, not an image\n", "cannot decode image"),
        ("empty", None, "folder holds no images"),
    ],
)
def test_bad_inputs_raise_input_error(tmp_path, name, content, message):
    with pytest.raises(InputError, match=message):
        open_source(str(_file(tmp_path / name, content)))


def test_truncated_video_yields_what_decodes_then_raises(media, tmp_path):
    data = (media / "videos" / "single_armsup_oneleg.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    src = open_source(str(cut))
    got = []
    with pytest.raises(InputError, match="truncated"):
        for f in src:
            got.append(f)
    assert 0 < len(got) < 120


def test_webcam_that_does_not_open():
    with pytest.raises(InputError, match="cannot open webcam 99"):
        CameraSource(99)
