"""Which videos a batch takes and the folder names they get (no MediaPipe, no media)."""

from pathlib import Path

import pytest

from arpose.batch.inputs import assign_names, find_videos, safe_name
from arpose.errors import InputError


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_files_folders_and_globs_expand_to_sorted_distinct_absolute_paths(tmp_path, monkeypatch):
    a = _touch(tmp_path / "shoot" / "b.mp4")
    b = _touch(tmp_path / "shoot" / "day2" / "a.MOV")
    _touch(tmp_path / "shoot" / "notes.txt")
    _touch(tmp_path / "shoot" / ".hidden" / "c.mp4")
    odd = _touch(tmp_path / "clip.video")
    monkeypatch.chdir(tmp_path)
    found = find_videos(["shoot", "shoot/*.mp4", "clip.video", str(tmp_path / "shoot" / "**" / "*.MOV")])
    assert found == sorted([a, b, odd])
    assert all(p.is_absolute() for p in found)


def test_the_output_folder_is_never_an_input(tmp_path):
    good = _touch(tmp_path / "in" / "clip.mp4")
    _touch(tmp_path / "in" / "out" / "clip" / "clip.annotated.mp4")
    assert find_videos([str(tmp_path / "in")], exclude=tmp_path / "in" / "out") == [good]
    with pytest.raises(InputError, match="inside the output folder"):
        find_videos([str(tmp_path / "in" / "out" / "clip" / "clip.annotated.mp4")], exclude=tmp_path / "in" / "out")


@pytest.mark.parametrize(
    "make, arg, message",
    [
        (lambda t: None, "missing.mp4", "input not found"),
        (lambda t: (t / "empty").mkdir(), "empty", "folder holds no video"),
        (lambda t: None, "*.mkv", "no video matches"),
        (lambda t: None, " ", "empty name"),
    ],
)
def test_bad_inputs_are_one_line_errors(tmp_path, monkeypatch, make, arg, message):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    with pytest.raises(InputError, match=message) as err:
        find_videos([arg])
    assert "\n" not in str(err.value)


def test_same_stem_in_two_folders_gets_two_names_whatever_the_order():
    paths = [Path("/m/a/clip.mp4"), Path("/m/b/clip.mp4"), Path("/m/b/other.mp4"), Path("/m/b/clip.mov")]
    names = assign_names(paths)
    assert names == assign_names(list(reversed(paths)))
    assert names[Path("/m/b/other.mp4")] == "other"
    assert names[Path("/m/a/clip.mp4")] == "a-clip"
    assert names[Path("/m/b/clip.mp4")] != names[Path("/m/b/clip.mov")]
    assert len({n.lower() for n in names.values()}) == len(paths)


def test_names_given_by_an_earlier_run_are_kept_and_never_reused():
    known = {"/m/a/clip.mp4": "clip"}
    names = assign_names([Path("/m/a/clip.mp4"), Path("/m/b/clip.mp4")], known)
    assert names[Path("/m/a/clip.mp4")] == "clip"
    assert names[Path("/m/b/clip.mp4")] != "clip"
    # A new video whose stem is a name already given gets another name (case-insensitively).
    assert assign_names([Path("/n/CLIP.mp4")], known)[Path("/n/CLIP.mp4")] != "CLIP"


def test_safe_names():
    assert safe_name("my clip (1)") == "my_clip_1"
    assert safe_name(".hidden") == "_.hidden"
    assert safe_name("***") == "video"
