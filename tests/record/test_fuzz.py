"""The take reader under random and mutated input: it either reads the take (and what it read
can be used: replayed, exported to CSV and BVH) or raises arpose's own error, never anything
else. Seeded and bounded in time, so a failure can be replayed with its seed and case."""

from __future__ import annotations

import json
import random
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from arpose.errors import ArposeError
from arpose.record.export import bvh_for_track, export_csv, take_body_track
from arpose.record.take import TakeWriter, TruncatedTakeWarning, read_take, take_header

sys.path.insert(0, str(Path(__file__).parent))  # the shared synthetic-take helper beside this file
from takegen import CAMERA, pose_frames  # noqa: E402

SECONDS = 3.0  # per generator
SEED = 16


@pytest.fixture(scope="module")
def real_take(tmp_path_factory) -> bytes:
    """A small real take: two people, bodies, angles, raw arrays and a frame with nobody."""
    path = tmp_path_factory.mktemp("take") / "real.take"
    header = take_header(source="fuzz", source_kind="video", resolution=(320, 240), fps=30.0, camera=CAMERA)
    with TakeWriter(path, header) as w:
        for pf in pose_frames(np.arange(5) / 30.0, people=(0, 1)):
            w.write(pf)
    return path.read_bytes()


def _record(obj) -> bytes:
    text = json.dumps(obj, separators=(",", ":")).encode()
    return b"%08x " % zlib.crc32(text) + text


def _random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(12 if depth < 3 else 8)
    simple = [
        None,
        True,
        rng.randint(-(2**70), 2**70),
        rng.choice([0, -1, 1, 33, 99, 2**31]),
        rng.uniform(-1e9, 1e9),
        rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -0.0]),
        "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(8))),
        rng.choice(["<f4", "|O", "<U8", "", "header", "frame", "end", "AAAA", "!!"]),
    ]
    if kind < len(simple):
        return simple[kind]
    if kind == 8:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 9:
        return {str(rng.randrange(5)): _random_json(rng, depth + 1) for _ in range(rng.randrange(4))}
    if kind == 10:
        return {"dtype": rng.choice(["<f4", "<f8", "|u1", "<i8", "|b1", "<c8"]), "shape": [33, 5], "b64": "AAAA"}
    return [[[[]]]] * rng.randrange(3)


def _mutate_value(rng: random.Random, obj):
    """``obj`` (a decoded JSON record) with one value somewhere inside replaced, deleted or
    deeply nested."""
    path = []
    node = obj
    while isinstance(node, (dict, list)) and node and rng.random() < 0.8:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return _random_json(rng)
    parent, key = path[-1]
    roll = rng.random()
    if roll < 0.15 and isinstance(parent, dict):
        del parent[key]
    elif roll < 0.2:
        parent[key] = {"a": parent[key]}
    else:
        parent[key] = _random_json(rng)
    return obj


def _structured(rng: random.Random, data: bytes) -> bytes:
    """A valid-checksum take whose records' JSON was mutated: reaches the decoders."""
    original = data.split(b"\n")
    lines = list(original)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(1, len(lines) - 1)
        if rng.random() < 0.03:  # nesting deeper than the JSON parser's recursion limit
            text = b'{"type":"frame","index":0,"t":0,"people":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            lines[i] = b"%08x " % zlib.crc32(text) + text
            continue
        obj = json.loads(original[i][9:])
        lines[i] = _record(_mutate_value(rng, obj))
    if rng.random() < 0.1:
        lines[0] = rng.choice([b"ARPOSE-TAKE 99", b"ARPOSE-TAKE -1", b"ARPOSE-TAKE 1 2", b"ARPOSE-TAKE x"])
    return b"\n".join(lines)


def _bytes_mutated(rng: random.Random, data: bytes) -> bytes:
    """Bit flips, cuts, deletions, duplications and random insertions in the raw bytes."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(5)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            del buf[pos:]
        elif op == 2:
            del buf[pos : pos + rng.randrange(200)]
        elif op == 3:
            buf[pos:pos] = buf[pos : pos + rng.randrange(400)]
        else:
            buf[pos:pos] = rng.randbytes(rng.randrange(64))
        if not buf:
            break
    return bytes(buf)


def _random_bytes(rng: random.Random, data: bytes) -> bytes:
    prefix = rng.choice([b"", b"ARPOSE-TAKE 1\n", data.split(b"\n", 2)[0] + b"\n" + data.split(b"\n", 2)[1] + b"\n"])
    return prefix + rng.randbytes(rng.randrange(2000))


def _use(take, tmp: Path) -> None:
    """What the commands do with a take that opened: replay, CSV export, BVH export."""
    take.fps, take.resolution, take.camera, take.timestamps  # noqa: B018 - properties must not fail
    for pf in take.pose_frames():
        pf.frame.size  # noqa: B018
    if take.frames:
        export_csv(take, tmp / "out.csv", force=True)
        for pid in take.person_ids:
            _, track = take_body_track(take, pid)
            bvh_for_track(track, nominal_fps=take.fps)


@pytest.mark.slow
@pytest.mark.parametrize("generator", [_random_bytes, _bytes_mutated, _structured])
def test_take_reader_raises_only_its_own_errors(real_take, tmp_path, generator):
    rng = random.Random(f"{SEED}-{generator.__name__}")
    path = tmp_path / "fuzz.take"
    cases = opened = 0
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        data = generator(rng, real_take)
        path.write_bytes(data)
        cases += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TruncatedTakeWarning)
                take = read_take(path, salvage=rng.random() < 0.5)
                _use(take, tmp_path)
            opened += 1
        except ArposeError as exc:
            assert "\n" not in str(exc)  # one-line messages
        except Exception as exc:  # anything else is a bug: show the case to replay it
            pytest.fail(
                f"case {cases} of {generator.__name__} raised {type(exc).__name__}: {exc}; input {data[:300]!r}"
            )
    assert cases > 50  # the time bound ran real cases
    if generator is _random_bytes:
        assert opened < cases  # random bytes are (nearly always) refused
