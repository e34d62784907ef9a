import ctypes
import math
import subprocess
import sys

import pytest

from arpose import sysinfo


def _status_kib(key: str) -> float:
    with open("/proc/self/status") as fh:
        return next(float(line.split()[1]) for line in fh if line.startswith(key + ":"))


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="compares with /proc/self/status")


@linux_only
def test_rss_matches_the_kernel_and_follows_an_allocation():
    before = sysinfo.rss_mb()
    assert before == pytest.approx(_status_kib("VmRSS") * 1024 / 1e6, abs=2.0)
    # The allocation is measured in a fresh interpreter: inside the suite, threads left by
    # other tests may free memory between the two readings.
    code = (
        "import numpy as np; from arpose import sysinfo; before = sysinfo.rss_mb(); "
        "block = np.ones(40_000_000 // 8); grown = sysinfo.rss_mb() - before; "
        "print(grown, block[-1], sysinfo.peak_rss_mb() - sysinfo.rss_mb())"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    grown, last, peak_minus_now = float(out[0]), float(out[1]), float(out[2])
    assert 38.0 < grown < 60.0 and last == 1.0  # 40 MB, touched
    assert peak_minus_now >= -1.0


@linux_only
def test_peak_without_resource_falls_back_to_proc(monkeypatch):
    with_resource = sysinfo.peak_rss_mb()
    monkeypatch.setitem(sys.modules, "resource", None)  # import resource -> ImportError
    assert sysinfo.peak_rss_mb() == pytest.approx(with_resource, abs=2.0)


def test_maxrss_is_bytes_on_macos_and_kib_elsewhere():
    assert sysinfo.maxrss_bytes(2048, "darwin") == 2048.0
    assert sysinfo.maxrss_bytes(2048, "linux") == 2048.0 * 1024
    assert sysinfo.maxrss_bytes(2048, "freebsd13") == 2048.0 * 1024


def test_native_structures_have_the_sizes_the_os_headers_give():
    # PROCESS_MEMORY_COUNTERS: two DWORDs then eight SIZE_T (72 bytes on 64-bit Windows)
    assert ctypes.sizeof(sysinfo._ProcessMemoryCounters) == 8 + 8 * ctypes.sizeof(ctypes.c_size_t)
    # mach_task_basic_info: MACH_TASK_BASIC_INFO_COUNT is 12 natural_t (48 bytes, pack 4)
    assert ctypes.sizeof(sysinfo._MachTaskBasicInfo) == 48


def test_unknown_platforms_answer_nan_without_raising(monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(sys, "platform", "sunos5")  # a Unix with neither /proc nor resource
    monkeypatch.setattr("builtins.open", fail)
    monkeypatch.setitem(sys.modules, "resource", None)
    assert math.isnan(sysinfo.rss_mb()) and math.isnan(sysinfo.peak_rss_mb())
