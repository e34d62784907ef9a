"""Where a batch's tasks run: :class:`PoolBackend` (local processes, the default) or
:class:`RayBackend` (a Ray cluster, ``pip install 'arpose[ray]'``). Both run
:func:`arpose.batch.tasks.run_task` on the same task objects and give the coordinator the
same events, so a batch's outputs do not depend on which one ran it.

Interface: ``start()``; ``capacity`` (tasks it can take now); ``submit(key, task)``;
``poll(timeout)`` -> a list of :class:`Progress`, :class:`Finished` and :class:`Lost` events;
``close(kill=False)``. A task whose worker process dies (killed, out of memory, a crash in
native code) is reported :class:`Lost`; the coordinator decides whether to run it again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, InputError
from .tasks import TaskResult


@dataclass(frozen=True)
class Progress:
    """A running task has processed ``frames`` frames; ``worker`` is ``host:pid``."""

    key: str
    frames: int
    worker: str


@dataclass(frozen=True)
class Finished:
    key: str
    result: TaskResult


@dataclass(frozen=True)
class Lost:
    """The task's worker died before it returned (``reason``: one line)."""

    key: str
    reason: str
    worker: str = ""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the platform tells), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------------------ local pool


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the coordinating process dies (even by
    ``kill -9``), so no orphan goes on writing into the batch's folders."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _pool_main(conn: Any, core: int | None, parent: int) -> None:
    """A pool worker: pin itself, then run the tasks sent on ``conn`` one at a time, sending
    ``("progress", key, frames)`` and ``("result", key, TaskResult)`` back."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
    _die_with_parent()
    if os.getppid() != parent:
        return  # the coordinator died while this worker started
    from .tasks import pin_worker, run_task, worker_id

    info = pin_worker(core)
    conn.send(("ready", worker_id(), info))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        key, task = msg

        def report(frames: int, key: str = key) -> None:
            if os.getppid() != parent:
                raise InputError("the batch stopped (its coordinating process is gone)")
            conn.send(("progress", key, frames))

        result = run_task(task, report)
        try:
            conn.send(("result", key, result))
        except (BrokenPipeError, OSError):
            return


def _exit_reason(code: int | None) -> str:
    import signal

    if code is None:
        return "worker process stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker process died ({name})"
    return f"worker process exited with code {code}"


class PoolBackend:
    """``workers`` local processes (default: one per usable CPU), started with ``spawn``,
    each running one task at a time. ``pin``: bind worker i to CPU i (of those this process
    may use) and hold BLAS/OpenCV to one thread (:func:`arpose.batch.tasks.pin_worker`).
    A worker that dies is replaced by a new one."""

    name = "pool"

    def __init__(self, workers: int | None = None, pin: bool = True) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be 1 or more, got {workers}")
        self.workers = workers or usable_cpus()
        self.pin = pin
        self._slots: list[dict[str, Any]] = []
        self._ctx = None

    def describe(self) -> str:
        return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"

    def start(self) -> None:
        import multiprocessing

        self._ctx = multiprocessing.get_context("spawn")
        self._slots = [self._spawn(i) for i in range(self.workers)]

    def _spawn(self, index: int) -> dict[str, Any]:
        assert self._ctx is not None
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        core = cpus[index % len(cpus)] if self.pin and cpus else None
        ours, theirs = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_pool_main, args=(theirs, core, os.getpid()), name=f"arpose-batch-{index + 1}", daemon=True
        )
        proc.start()
        theirs.close()
        return {"index": index, "proc": proc, "conn": ours, "task": None, "worker": f"pid {proc.pid}", "dead": False}

    @property
    def pids(self) -> list[int]:
        """Process ids of the current workers."""
        return [s["proc"].pid for s in self._slots]

    @property
    def capacity(self) -> int:
        return sum(s["task"] is None for s in self._slots)

    def submit(self, key: str, task: Any) -> None:
        slot = next(s for s in self._slots if s["task"] is None)
        slot["task"] = key
        try:
            slot["conn"].send((key, task))
        except (BrokenPipeError, OSError):
            slot["dead"] = True  # reported as lost by the next poll

    def poll(self, timeout: float = 0.2) -> list:
        from multiprocessing.connection import wait

        events: list = []
        waitables = [s["conn"] for s in self._slots] + [s["proc"].sentinel for s in self._slots]
        ready = wait(waitables, timeout=timeout)
        for slot in list(self._slots):
            if slot["conn"] in ready or slot["proc"].sentinel in ready or slot["dead"]:
                events += self._drain(slot)
        return events

    def _drain(self, slot: dict[str, Any]) -> list:
        events: list = []
        conn = slot["conn"]
        try:
            while conn.poll():
                msg = conn.recv()
                if msg[0] == "ready":
                    slot["worker"] = msg[1]
                elif msg[0] == "progress":
                    events.append(Progress(msg[1], msg[2], slot["worker"]))
                elif msg[0] == "result":
                    events.append(Finished(msg[1], msg[2]))
                    slot["task"] = None
        except (EOFError, OSError):
            slot["dead"] = True
        proc = slot["proc"]
        if slot["dead"] or not proc.is_alive():
            proc.join(timeout=5)
            if slot["task"] is not None:
                events.append(Lost(slot["task"], _exit_reason(proc.exitcode), slot["worker"]))
            conn.close()
            self._slots[self._slots.index(slot)] = self._spawn(slot["index"])
        return events

    def close(self, kill: bool = False) -> None:
        for slot in self._slots:
            try:
                if kill:
                    slot["proc"].terminate()
                else:
                    slot["conn"].send(None)
            except (BrokenPipeError, OSError):
                pass
        for slot in self._slots:
            slot["proc"].join(timeout=10)
            if slot["proc"].is_alive():
                slot["proc"].kill()
                slot["proc"].join()
            slot["conn"].close()
        self._slots = []


# ------------------------------------------------------------------------------ Ray


def _ray_task(task: Any, board: Any) -> TaskResult:
    """A Ray task: the same :func:`run_task` as a pool worker, progress to ``board``."""
    from .tasks import pin_worker, run_task, worker_id

    pin_worker(None)
    me = worker_id()

    def report(frames: int) -> None:
        board.report.remote(task.key, frames, me)

    return run_task(task, report)


class _Board:
    """A Ray actor collecting progress reports (the coordinator drains it a few times a second)."""

    def __init__(self) -> None:
        self.updates: dict[str, tuple[int, str]] = {}

    def report(self, key: str, frames: int, worker: str) -> None:
        self.updates[key] = (frames, worker)

    def drain(self) -> dict[str, tuple[int, str]]:
        out, self.updates = self.updates, {}
        return out


def _sees(path: str) -> tuple[str, bool]:
    import socket

    return socket.gethostname(), os.path.isfile(path)


def import_ray():
    """``ray``, or :class:`ConfigError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'arpose[ray]'") from None
    return ray


class RayBackend:
    """Tasks on a Ray cluster, one CPU each (``num_cpus=1``), no retries by Ray itself (a
    task whose worker dies is :class:`Lost`, and the coordinator runs it again once, as with
    the pool).

    address: ``None`` starts a local Ray instance with ``workers`` CPUs (default: the
    usable CPUs); ``"auto"`` joins the cluster this machine belongs to (``ray start``);
    ``"ray://HOST:10001"`` connects through Ray Client; ``"HOST:6379"`` to a head node.
    workers: most tasks in flight at once (default: the cluster's CPUs).
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be 1 or more, got {workers}")
        if address is not None and not str(address).strip():
            raise ConfigError("--ray ADDRESS is empty; give auto, HOST:PORT or ray://HOST:PORT")
        self.address = address
        self.workers = workers
        self._ray: Any = None
        self._refs: dict[Any, str] = {}
        self._board: Any = None
        self._remote: Any = None
        self._started_here = False
        self.cluster_cpus = 0

    def describe(self) -> str:
        where = "a local Ray instance" if self.address is None else f"the Ray cluster at {self.address}"
        return f"{where} ({self.cluster_cpus} CPUs, up to {self.workers} tasks at once)"

    def start(self) -> None:
        import logging

        ray = self._ray = import_ray()
        kwargs: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address is None:
                ray.init(num_cpus=self.workers or usable_cpus(), include_dashboard=False, **kwargs)
                self._started_here = True
            else:
                ray.init(address=self.address, **kwargs)
        except Exception as exc:  # ConnectionError, ValueError, RuntimeError...
            raise ConfigError(f"cannot connect to Ray at {self.address or 'a new local instance'}: {exc}") from None
        self.cluster_cpus = int(ray.cluster_resources().get("CPU", 0))
        if self.cluster_cpus < 1:
            self.close()
            raise ConfigError(f"the Ray cluster at {self.address} has no CPU to run tasks on")
        self.workers = self.workers or self.cluster_cpus
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
        self._board = ray.remote(num_cpus=0)(_Board).remote()

    def check_shared(self, path: str, timeout: float = 120.0) -> None:
        """Check that every alive node sees ``path`` (a file the coordinator just wrote in
        the output folder): :class:`ConfigError` naming the first node that does not."""
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = ray.remote(num_cpus=0)(_sees)
        refs = [
            probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(path)
            for n in ray.nodes()
            if n.get("Alive")
        ]
        try:
            answers = ray.get(refs, timeout=timeout)
        except Exception as exc:
            raise ConfigError(
                f"cannot check the Ray nodes ({type(exc).__name__}: {exc}); is arpose installed on every node?"
            ) from None
        for host, seen in answers:
            if not seen:
                raise ConfigError(
                    f"Ray node {host} does not see {path}: --out must be a folder every node mounts at the same path"
                )

    @property
    def capacity(self) -> int:
        return max(0, int(self.workers or 0) - len(self._refs))

    def submit(self, key: str, task: Any) -> None:
        self._refs[self._remote.remote(task, self._board)] = key

    def poll(self, timeout: float = 0.2) -> list:
        ray = self._ray
        events: list = []
        if self._refs:
            ready, _ = ray.wait(list(self._refs), num_returns=len(self._refs), timeout=timeout)
        else:
            time.sleep(timeout)
            ready = []
        for key, (frames, worker) in ray.get(self._board.drain.remote()).items():
            if key in self._refs.values():
                events.append(Progress(key, frames, worker))
        for ref in ready:
            key = self._refs.pop(ref)
            try:
                events.append(Finished(key, ray.get(ref)))
            except Exception as exc:  # WorkerCrashedError, NodeDiedError, ...
                events.append(Lost(key, f"Ray task lost ({type(exc).__name__})"))
        return events

    def close(self, kill: bool = False) -> None:
        ray = self._ray
        if ray is None:
            return
        if kill:
            for ref in list(self._refs):
                try:
                    ray.cancel(ref, force=True)
                except Exception:
                    pass
        self._refs = {}
        ray.shutdown()
        self._ray = None
