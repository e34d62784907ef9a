"""``arpose batch`` on the local process pool with real clips: outputs per video, failures
isolated, the manifest makes reruns skip finished work, bad arguments are exit 2."""

from __future__ import annotations

import shutil

import pytest

from arpose.app.cli import main

from .conftest import SHORT, job_records, no_leftovers, records, run_batch_cli


@pytest.mark.slow
def test_a_corrupt_and_a_truncated_file_among_good_ones_fail_alone(media, tmp_path):
    videos = media / "videos"
    src = tmp_path / "in"
    src.mkdir()
    for name in SHORT:
        (src / name).symlink_to(videos / name)
    (src / "junk.mp4").write_bytes(b"this is no video\n" * 100)
    (src / "cut.mp4").write_bytes((videos / "single_dance_man.mp4").read_bytes()[:30000])
    out = tmp_path / "out"
    proc = run_batch_cli(src, "--out", out, "--no-progress")
    assert proc.returncode == 1, proc.stderr
    table = proc.stdout
    assert "junk" in table and "cannot decode video" in table
    assert "truncated or corrupt" in table and "outputs hold" not in table
    assert "2 done, 2 failed" in table
    for name in ("single_dance_woman", "single_dance_man"):
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(
            [f"{name}.take", f"{name}.bvh", f"{name}.landmarks.csv", f"{name}.angles.csv"]
        )
    assert not (out / "junk").exists() and not (out / "cut").exists()
    done = {r["name"]: r for r in job_records(out, "done")}
    failed = {r["name"]: r for r in job_records(out, "failed")}
    assert set(done) == {"single_dance_woman", "single_dance_man"} and set(failed) == {"junk", "cut"}
    assert done["single_dance_man"]["frames"] == 102 and done["single_dance_woman"]["frames"] == 42
    assert all("\n" not in r["error"] for r in failed.values())
    no_leftovers(out)

    # A rerun does nothing new: finished jobs are skipped, failed ones kept without --retry.
    before = len(records(out))
    again = run_batch_cli(src, "--out", out, "--no-progress")
    assert again.returncode == 1
    assert "2 finished before, 2 failed before (--retry runs them)" in again.stdout
    assert len(records(out)) == before
    # The truncated file replaced by a good one is noticed as changed and run again.
    (src / "cut.mp4").unlink()
    shutil.copy(videos / "single_dance_woman.mp4", src / "cut.mp4")
    (src / "junk.mp4").unlink()
    third = run_batch_cli(src, "--out", out, "--no-progress")
    assert third.returncode == 0, third.stdout + third.stderr
    assert job_records(out, "done")[-1]["name"] == "cut"
    no_leftovers(out)


@pytest.mark.slow
def test_same_name_in_two_folders_does_not_overwrite(media, tmp_path):
    clip = media / "videos" / "single_dance_woman.mp4"
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "clip.mp4").symlink_to(clip)
    out = tmp_path / "out"
    proc = run_batch_cli(tmp_path / "a", tmp_path / "b" / "clip.mp4", "--out", out, "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "a-clip" / "a-clip.take").is_file() and (out / "b-clip" / "b-clip.take").is_file()
    a = (out / "a-clip" / "a-clip.landmarks.csv").read_bytes()
    assert a == (out / "b-clip" / "b-clip.landmarks.csv").read_bytes()  # the same video gives the same data


def _err(capsys) -> str:
    return capsys.readouterr().err.strip()


def _exit_code(argv) -> int:
    try:
        return main(["batch", *argv])
    except SystemExit as exc:  # argparse's own refusals
        return int(exc.code)


def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, media):
    clip = str(media / "videos" / "single_dance_woman.mp4")
    out = str(tmp_path / "out")
    cases = [
        ([str(tmp_path / "missing.mp4"), "--out", out], "input not found"),
        ([clip, "--out", out, "--take", "one.take"], "--take names one file"),
        ([clip, "--out", out, "--vmc", "127.0.0.1"], "--vmc streams"),
        ([clip, "--out", out, "--split-minutes", "0"], "--split-minutes"),
        ([clip, "--out", out, "--workers", "0"], "--workers"),
        ([clip, "--out", out, "--props", "crown"], "add --video"),
        ([clip, "--out", clip], "is a file"),
        ([clip], "--out"),
    ]
    for argv, message in cases:
        assert _exit_code(argv) == 2
        err = _err(capsys)
        assert message in err and err.count("\n") == 0, (argv, err)
    (tmp_path / "out" / "single_dance_woman").mkdir(parents=True)
    assert main(["batch", clip, "--out", out]) == 2
    assert "not made by this batch" in _err(capsys)
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_print_config_shows_the_settings_every_video_gets(capsys, media, tmp_path):
    clip = str(media / "videos" / "single_dance_woman.mp4")
    assert main(["batch", clip, "--out", str(tmp_path), "--no-smooth", "--bvh-origin", "floor", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert "[smooth]\nenabled = false" in text and 'origin = "floor"' in text
