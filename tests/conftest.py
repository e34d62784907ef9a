"""Shared test fixtures. Real media live beside the repo in ../shared/media (never copied
into the repo); tests that need them skip with the reason if the folder is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

REPO = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("ARPOSE_MEDIA", REPO.parent / "shared" / "media"))


@pytest.fixture(scope="session")
def media() -> Path:
    if not MEDIA.is_dir():
        pytest.skip(f"test media not found at {MEDIA} (set ARPOSE_MEDIA)")
    return MEDIA
