"""The manifest: records round-trip, a torn last line is skipped and cut off, a damaged line
before it is an error; only whole lines are ever appended."""

import pytest

from arpose.batch.manifest import ManifestWriter, Record, latest, read_manifest
from arpose.errors import InputError


def _rec(status="done", segment=None, **kw):
    base = dict(input="/v/a.mp4", name="a", size=10, mtime_ns=5, settings="sha256:x", status=status)
    base.update(kw)
    return Record(segment=segment, **base)


def test_records_round_trip_and_the_last_of_each_job_wins(tmp_path):
    path = tmp_path / "manifest.jsonl"
    seg = {"index": 1, "count": 3, "start": 10, "end": 20, "warmup_from": 5}
    with ManifestWriter(path) as w:
        w.append(_rec("running"))
        w.append(_rec("running", segment=seg))
        w.append(_rec("done", segment=seg, frames=10))
        w.append(_rec("failed", error="cannot decode video: a.mp4", seconds=0.5))
    recs = read_manifest(path)
    assert [r.status for r in recs] == ["running", "running", "done", "failed"]
    assert recs[2].segment == seg and recs[2].frames == 10 and recs[3].error == "cannot decode video: a.mp4"
    last = latest(recs)
    assert last[("/v/a.mp4", None)].status == "failed"
    assert last[("/v/a.mp4", 1)].status == "done"
    assert all(r.time for r in recs)
    assert path.read_bytes().endswith(b"\n") and path.read_bytes().count(b"\n") == 4


def test_a_torn_last_line_is_skipped_then_cut_off_by_the_next_writer(tmp_path):
    path = tmp_path / "manifest.jsonl"
    with ManifestWriter(path) as w:
        w.append(_rec("running"))
    whole = path.read_bytes()
    path.write_bytes(whole + _rec("done").to_json().encode()[:37])  # killed mid-append
    assert [r.status for r in read_manifest(path)] == ["running"]
    with ManifestWriter(path) as w:
        w.append(_rec("done"))
    assert [r.status for r in read_manifest(path)] == ["running", "done"]
    data = path.read_bytes()
    assert data.startswith(whole) and data.count(b"\n") == 2 and data.endswith(b"\n")


def test_a_damaged_line_before_the_last_is_an_error_naming_it(tmp_path):
    path = tmp_path / "manifest.jsonl"
    path.write_text(_rec().to_json() + "\n{not json\n" + _rec().to_json() + "\n")
    with pytest.raises(InputError, match="line 2"):
        read_manifest(path)
    path.write_text('{"input": "/v", "status": "weird"}\n' + _rec().to_json() + "\n")
    with pytest.raises(InputError, match="line 1"):
        read_manifest(path)


def test_no_manifest_is_no_records(tmp_path):
    assert read_manifest(tmp_path / "none.jsonl") == []
