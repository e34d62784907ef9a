"""What hands and face cost per frame: the same frames analysed body-only, with ``--hands``,
``--face`` and ``--holistic`` (for ``arpose bench --holistic``).

:func:`measure` runs each variant's whole analysing half of the pipeline (estimator, smoothing,
retargeting, the ``hands_face`` stage; no outputs) over the first frames of a video in VIDEO
mode and reports per frame, in milliseconds: wall-clock median and 95th percentile, CPU time
(this process, all threads) median, and the live rate the analysing thread allows
(``1000 / median``; the live runtime renders on the other thread). ``--face-every N`` style
savings are not needed: the face costs a few milliseconds (docs/hands_face.md).

``python -m arpose.evaluate.hands_face_cost VIDEO [FRAMES [full|lite]]`` writes the table as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np

__all__ = ["VARIANTS", "measure"]

#: Variant name -> (hands, face).
VARIANTS: dict[str, tuple[bool, bool]] = {
    "body": (False, False),
    "hands": (True, False),
    "face": (False, True),
    "holistic": (True, True),
}


def measure(
    video: str,
    frames: int = 150,
    variants: tuple[str, ...] = tuple(VARIANTS),
    warmup: int = 5,
    hand_model: str = "full",
) -> dict[str, Any]:
    """Per-frame cost of each variant on the first ``frames`` frames of ``video``.

    Returns ``{variant: {"wall_median_ms", "wall_p95_ms", "cpu_median_ms", "live_fps",
    "added_ms", "hands_ms", "face_ms", "frames", "hands_seen", "faces_seen"}}``; ``added_ms`` is
    the median wall time above the body-only variant (when measured); ``hands_ms`` / ``face_ms``
    the medians of those parts inside the estimator. The first ``warmup`` frames are not timed.
    hand_model: ``"full"`` or ``"lite"`` (:attr:`arpose.spec.EstimatorSpec.hand_model`).
    """
    from ..build import build_pipeline, spec_for_source
    from ..source import open_source
    from ..spec import PipelineSpec

    out: dict[str, Any] = {}
    for name in variants:
        hands, face = VARIANTS[name]
        src = open_source(video)
        spec = spec_for_source(PipelineSpec(), src)
        spec = replace(spec, estimator=replace(spec.estimator, hands=hands, face=face, hand_model=hand_model))
        wall, cpu = [], []
        seen_h = seen_f = n = 0
        with build_pipeline(spec, src) as pipeline:
            for frame in src:
                if n >= frames:
                    break
                t0, c0 = time.perf_counter(), time.process_time()
                pf = pipeline.analyze(frame)
                t1, c1 = time.perf_counter(), time.process_time()
                if n >= warmup:
                    wall.append(t1 - t0)
                    cpu.append(c1 - c0)
                for p in pf.people:
                    seen_h += int(p.hands is not None and np.isfinite(p.hands[:, 0, 0]).any())
                    seen_f += int(p.face is not None and np.isfinite(p.face[0, 0]))
                n += 1
            parts = getattr(pipeline.estimator, "summary", lambda: {})()
        w = np.array(wall) * 1000.0
        out[name] = {
            "frames": n,
            "wall_median_ms": float(np.median(w)),
            "wall_p95_ms": float(np.percentile(w, 95)),
            "cpu_median_ms": float(np.median(np.array(cpu) * 1000.0)),
            "live_fps": float(1000.0 / np.median(w)),
            "hands_ms": float(parts.get("hands", float("nan"))),
            "face_ms": float(parts.get("face", float("nan"))),
            "hands_seen": seen_h,
            "faces_seen": seen_f,
        }
    if "body" in out:
        for name, row in out.items():
            row["added_ms"] = row["wall_median_ms"] - out["body"]["wall_median_ms"]
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        sys.stderr.write("usage: python -m arpose.evaluate.hands_face_cost VIDEO [FRAMES [full|lite]]\n")
        return 2
    frames = int(args[1]) if len(args) > 1 else 150
    model = args[2] if len(args) > 2 else "full"
    result = measure(args[0], frames, hand_model=model)
    sys.stdout.write(json.dumps({"video": args[0], "hand_model": model, "results": result}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
