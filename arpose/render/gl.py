"""Headless OpenGL set-up shared by every renderer (props, avatar, synthetic performer).

Import this module before pyrender / PyOpenGL. Defaults, each overridable from the
environment:

* ``PYOPENGL_PLATFORM=egl``: offscreen rendering with no display (Mesa's software
  rasteriser, llvmpipe, when there is no GPU).
* ``LP_NUM_THREADS=1``: llvmpipe renders on one thread. In the pipelined runtime the other
  core is busy with pose inference; measured with ``arpose bench`` on 2 cores, one render
  thread lowers the end-to-end p95 latency (about 48 -> 41 ms) at no cost in throughput;
  0, 1 or 2 threads cost the same CPU per rendered frame (docs/backend.md). It must be set
  before EGL starts (before the first prop is rendered).
"""

from __future__ import annotations

import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("LP_NUM_THREADS", "1")
