"""What a batch decides for each job, how long videos are cut, and which options it refuses
(pure functions; no MediaPipe)."""

from dataclasses import replace
from pathlib import Path

import pytest

from arpose.batch.manifest import ManifestWriter, Record
from arpose.batch.plan import PER_VIDEO, BatchOptions, decide, plan_batch, settings_digest, split_layout
from arpose.errors import ConfigError, OutputError
from arpose.spec import BvhOutput, OverlaySpec, PipelineSpec, SmoothSpec, TakeOutput, VmcOutput


def _rec(status, size=10, mtime_ns=5, settings="s", error=None):
    return Record("/v/a.mp4", "a", size, mtime_ns, settings, status, error=error)


def _decide(last, exists=False, retry=False, force=False, size=10, mtime_ns=5, settings="s"):
    return decide(last, size=size, mtime_ns=mtime_ns, settings=settings, folder_exists=exists, retry=retry, force=force)


def test_decisions():
    assert _decide(None).action == "run"
    assert _decide(None, exists=True).action == "conflict"
    assert _decide(None, exists=True, force=True) == _decide(None, exists=True, force=True)
    assert _decide(None, exists=True, force=True).replace
    assert _decide(_rec("done"), exists=True).action == "skip"
    gone = _decide(_rec("done"), exists=False)
    assert gone.action == "run" and not gone.replace
    for changed in (dict(size=11), dict(mtime_ns=6), dict(settings="t")):
        d = _decide(_rec("done"), exists=True, **changed)
        assert d.action == "changed" and "--force" in d.reason
        d = _decide(_rec("done"), exists=True, force=True, **changed)
        assert d.action == "run" and d.replace
    assert "input changed" in _decide(_rec("done"), exists=True, size=11).reason
    assert "settings changed" in _decide(_rec("done"), exists=True, settings="t").reason
    kept = _decide(_rec("failed", error="cannot decode video: a.mp4"))
    assert kept.action == "failed" and kept.reason == "cannot decode video: a.mp4"
    assert _decide(_rec("failed"), retry=True).action == "run"
    assert _decide(_rec("failed"), size=99).action == "run"  # a changed input is tried again
    interrupted = _decide(_rec("running"), exists=True)
    assert interrupted.action == "run" and interrupted.replace  # the batch made that folder


def test_split_layout_cuts_with_warm_up_and_runs_the_last_part_to_the_end():
    parts = split_layout(325, 25.0, 0.05, 2.0)
    assert [(p.start, p.end, p.warmup_from) for p in parts] == [
        (0, 75, 0),
        (75, 150, 25),
        (150, 225, 100),
        (225, 300, 175),
        (300, None, 250),
    ]
    assert all(p.count == 5 for p in parts) and [p.index for p in parts] == list(range(5))
    assert split_layout(325, 25.0, None, 2.0) == ()
    assert split_layout(60, 25.0, 0.05, 2.0) == ()  # shorter than one segment
    assert split_layout(None, 25.0, 0.05, 2.0) == ()  # length unknown: not split


def test_settings_digest_follows_the_pipeline_settings_not_the_paths():
    a = PipelineSpec(outputs=(BvhOutput(PER_VIDEO),))
    assert settings_digest(a) == settings_digest(PipelineSpec())
    assert settings_digest(a) != settings_digest(replace(a, smooth=SmoothSpec(enabled=False)))
    assert settings_digest(a) != settings_digest(a, video=True)
    assert settings_digest(a) != settings_digest(PipelineSpec(outputs=(BvhOutput(PER_VIDEO, origin="floor"),)))
    # the backend and its threads give the same outputs: a batch begun when MediaPipe's graph was
    # the default (backend "mediapipe", 2 threads) resumes under the LiteRT default (1 thread)
    old_default = replace(a, estimator=replace(a.estimator, backend="mediapipe", threads=2))
    assert settings_digest(old_default) == "sha256:" + _old_digest(old_default)
    assert settings_digest(replace(a, estimator=replace(a.estimator, threads=1))) == settings_digest(old_default)
    assert settings_digest(replace(a, estimator=replace(a.estimator, backend="litert"))) == settings_digest(old_default)
    assert settings_digest(replace(a, estimator=replace(a.estimator, hands=True))) != settings_digest(old_default)


def _old_digest(spec):
    """The digest as written before the backend became "auto" (the whole spec hashed)."""
    import hashlib
    from pathlib import Path

    from arpose.batch.plan import job_spec
    from arpose.spec import spec_to_toml

    text = spec_to_toml(job_spec(spec, Path(PER_VIDEO), PER_VIDEO, False))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_a_batch_runs_litert_on_one_thread_unless_told():
    from arpose.app.cli import build_parser
    from arpose.app.cmd_batch import batch_spec

    def spec(*argv):
        return batch_spec(build_parser().parse_args(["batch", "videos", "--out", "out", *argv]))

    assert spec().estimator.threads == 1 and spec().estimator.resolved_backend == "litert"
    assert spec("--threads", "2").estimator.threads == 2
    assert BatchOptions(out_dir="out").spec.estimator.threads == 1


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(spec=PipelineSpec(outputs=(TakeOutput("one.take"),))), "--take names one file"),
        (dict(spec=PipelineSpec(outputs=(VmcOutput(),))), "--vmc streams"),
        (dict(spec=PipelineSpec(overlay=OverlaySpec(props=("crown",)))), "add --video"),
        (dict(split_minutes=0.0), "--split-minutes"),
        (dict(split_overlap=-1.0), "--split-overlap"),
        (dict(video=True, split_minutes=1.0, spec=PipelineSpec(overlay=OverlaySpec(props=("crown",)))), "masks"),
    ],
)
def test_options_a_batch_cannot_use_are_one_line_config_errors(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message) as err:
        BatchOptions(out_dir=tmp_path, **options).validate()
    assert "\n" not in str(err.value)


def test_plan_refuses_a_folder_it_did_not_make_and_keeps_failed_jobs(tmp_path):
    video = tmp_path / "in" / "clip.mp4"
    video.parent.mkdir()
    video.write_bytes(b"not a video")
    out = tmp_path / "out"
    (out / "clip").mkdir(parents=True)
    with pytest.raises(OutputError, match="not made by this batch"):
        plan_batch([str(video)], BatchOptions(out_dir=out))
    plan = plan_batch([str(video)], BatchOptions(out_dir=out, force=True))
    (job,) = plan.jobs
    assert job.decision.action == "run" and job.decision.replace
    assert job.error is not None and "cannot decode video" in job.error  # probed: it fails without a worker
    st = video.stat()
    with ManifestWriter(out / "manifest.jsonl") as w:
        w.append(Record(str(video), "clip", st.st_size, st.st_mtime_ns, plan.settings, "failed", error="bad"))
    again = plan_batch([str(video)], BatchOptions(out_dir=out))
    assert again.jobs[0].decision.action == "failed"
    assert plan_batch([str(video)], BatchOptions(out_dir=out, retry=True)).jobs[0].decision.action == "run"


def test_plan_refuses_an_output_folder_that_is_a_file(tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"x")
    (tmp_path / "out").write_text("")
    with pytest.raises(OutputError, match="is a file"):
        plan_batch([str(tmp_path / "v.mp4")], BatchOptions(out_dir=Path(tmp_path / "out")))
