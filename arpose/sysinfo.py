"""Memory of this process, on Linux, macOS and Windows, with no dependency and no Unix-only
import at module level (``resource`` is imported only inside the branches that use it).

Both functions return megabytes (10^6 bytes) and NaN when the platform gives no answer; they
never raise.

* Linux: current RSS from ``/proc/self/statm`` (resident pages x page size); peak from
  ``getrusage`` (``ru_maxrss`` in KiB), else ``VmHWM`` in ``/proc/self/status``.
* macOS: current RSS from the Mach call ``task_info(MACH_TASK_BASIC_INFO)`` through ctypes;
  peak from ``getrusage`` (``ru_maxrss`` in *bytes* there).
* Windows: working set and peak working set from ``GetProcessMemoryInfo`` (kernel32's
  ``K32GetProcessMemoryInfo``, else psapi's) through ctypes.
* Other Unix (BSD): peak from ``getrusage`` (KiB); no current RSS (NaN).
"""

from __future__ import annotations

import ctypes
import math
import os
import sys

_MB = 1e6
_NAN = float("nan")


class _ProcessMemoryCounters(ctypes.Structure):
    """Windows ``PROCESS_MEMORY_COUNTERS`` (psapi.h): DWORDs are 32-bit, the rest SIZE_T."""

    _fields_ = [
        ("cb", ctypes.c_uint32),
        ("PageFaultCount", ctypes.c_uint32),
        ("PeakWorkingSetSize", ctypes.c_size_t),
        ("WorkingSetSize", ctypes.c_size_t),
        ("QuotaPeakPagedPoolUsage", ctypes.c_size_t),
        ("QuotaPagedPoolUsage", ctypes.c_size_t),
        ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t),
        ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
        ("PagefileUsage", ctypes.c_size_t),
        ("PeakPagefileUsage", ctypes.c_size_t),
    ]


class _MachTaskBasicInfo(ctypes.Structure):
    """macOS ``mach_task_basic_info`` (mach/task_info.h, packed to 4 bytes)."""

    _pack_ = 4
    _fields_ = [
        ("virtual_size", ctypes.c_uint64),
        ("resident_size", ctypes.c_uint64),
        ("resident_size_max", ctypes.c_uint64),
        ("user_time", ctypes.c_int32 * 2),
        ("system_time", ctypes.c_int32 * 2),
        ("policy", ctypes.c_int32),
        ("suspend_count", ctypes.c_int32),
    ]


_MACH_TASK_BASIC_INFO = 20  # the flavor, mach/task_info.h


def maxrss_bytes(ru_maxrss: int, platform: str = sys.platform) -> float:
    """``getrusage().ru_maxrss`` in bytes: macOS reports bytes, Linux and the BSDs KiB."""
    return float(ru_maxrss) if platform == "darwin" else float(ru_maxrss) * 1024.0


def _windows_counters() -> _ProcessMemoryCounters:
    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]  # Windows only
    kernel32.GetCurrentProcess.restype = ctypes.c_void_p
    get = getattr(kernel32, "K32GetProcessMemoryInfo", None)
    if get is None:  # before Windows 7
        get = ctypes.WinDLL("psapi").GetProcessMemoryInfo  # type: ignore[attr-defined]
    get.argtypes = [ctypes.c_void_p, ctypes.POINTER(_ProcessMemoryCounters), ctypes.c_uint32]
    get.restype = ctypes.c_int
    counters = _ProcessMemoryCounters()
    counters.cb = ctypes.sizeof(counters)
    if not get(kernel32.GetCurrentProcess(), ctypes.byref(counters), counters.cb):
        raise OSError("GetProcessMemoryInfo failed")
    return counters


def _mach_resident_bytes() -> float:
    libc = ctypes.CDLL("/usr/lib/libSystem.dylib")
    task = ctypes.c_uint32.in_dll(libc, "mach_task_self_")  # what mach_task_self() returns
    info = _MachTaskBasicInfo()
    count = ctypes.c_uint32(ctypes.sizeof(info) // ctypes.sizeof(ctypes.c_uint32))
    libc.task_info.argtypes = [ctypes.c_uint32, ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32)]
    libc.task_info.restype = ctypes.c_int
    if libc.task_info(task, _MACH_TASK_BASIC_INFO, ctypes.byref(info), ctypes.byref(count)) != 0:
        raise OSError("task_info failed")
    return float(info.resident_size)


def _proc_status_kib(key: str) -> float:
    """A ``kB`` line of ``/proc/self/status`` (e.g. ``VmHWM``) in KiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return float(line.split()[1])
    raise OSError(f"{key} not in /proc/self/status")


def rss_mb() -> float:
    """Resident memory of this process now, MB (10^6 bytes); NaN when unknown."""
    try:
        if sys.platform == "win32":
            return _windows_counters().WorkingSetSize / _MB
        if sys.platform == "darwin":
            return _mach_resident_bytes() / _MB
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / _MB
    except (OSError, ValueError, AttributeError, IndexError):
        return _NAN


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (10^6 bytes); NaN when unknown."""
    try:
        if sys.platform == "win32":
            return _windows_counters().PeakWorkingSetSize / _MB
    except (OSError, ValueError, AttributeError):
        return _NAN
    try:
        import resource  # Unix only

        peak = maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        if peak > 0 and math.isfinite(peak):
            return peak / _MB
    except (ImportError, OSError, ValueError, AttributeError):
        pass
    try:
        return _proc_status_kib("VmHWM") * 1024.0 / _MB
    except (OSError, ValueError, IndexError):
        return _NAN
