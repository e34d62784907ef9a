"""Bounded running statistics: memory that stays the same however long a live run lasts.

:class:`SampleStats` replaces a growing list of per-frame samples (stage times, latencies,
reprojection errors, foot speeds). It keeps

* the exact count and the exact running sum (so the mean is exact up to float rounding);
* a uniform random sample of at most ``capacity`` values for whole-run percentiles
  (reservoir sampling, Li's "Algorithm L": one random draw per *replacement*, not per value,
  so adding costs the same as appending to a list);
* the ``recent`` most recent values in arrival order (a ring buffer), for "the last second"
  readings such as the latency shown in the live window.

Accuracy. While ``count <= capacity`` the sample *is* every value, so percentiles are exactly
``np.percentile`` of the full list. After that the sample is a uniform random sample of
``capacity`` values: the rank of an estimated ``q``-th percentile (the fraction of all values
below it) has a standard deviation of ``sqrt(p (1 - p) / capacity)`` with ``p = q / 100``.
With the default capacity of 8192 that is 0.55 percentile points for the median and 0.24 for
the 95th percentile: the reported p95 lies between the true p94.5 and p95.5 in about 95 % of
runs. Merging two holders (:meth:`SampleStats.merge`) keeps the sample uniform over the union.

The random generator is seeded, so the same values in the same order give the same estimates.
"""

from __future__ import annotations

import math
import random
from array import array
from collections import deque
from typing import Iterable, Iterator

import numpy as np

from .errors import ConfigError

#: Values kept for percentiles: exact up to this many samples (4.5 minutes at 30 fps).
DEFAULT_CAPACITY = 8192


class SampleStats:
    """Count, mean, percentiles and the most recent values of a stream of floats, in bounded
    memory (module doc). Units are the caller's (seconds for times, pixels, metres, ...).

    capacity: values kept for percentiles (at least 1); exact while ``count <= capacity``.
    recent: most recent values kept in arrival order (0: none).
    seed: of the reservoir's random generator.

    ``len()``, iteration and ``np.asarray`` give the values held for percentiles: every value
    in arrival order while ``count <= capacity``, else the uniform sample (in no useful order).
    ``count`` is always the true number of values added. Not thread-safe for concurrent
    writers; one writer with readers on other threads is fine (readers copy first).
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, recent: int = 0, seed: int = 0) -> None:
        if capacity < 1 or recent < 0:
            raise ConfigError(f"SampleStats needs capacity >= 1 and recent >= 0, got {capacity} and {recent}")
        self.capacity = int(capacity)
        self.count = 0
        self.total = 0.0
        self._values = array("d")
        self._recent: deque[float] = deque(maxlen=int(recent))
        self._rng = random.Random(seed)
        self._w = 0.0  # Algorithm L: the largest key in the reservoir
        self._next = 0  # Algorithm L: 1-based index of the next value to enter the reservoir

    # -- writing ---------------------------------------------------------------------------
    def add(self, value: float) -> None:
        """Add one sample (NaN is kept, as a list would keep it)."""
        x = float(value)
        self.count += 1
        self.total += x
        self._recent.append(x)
        values = self._values
        if len(values) < self.capacity:
            values.append(x)
            if len(values) == self.capacity:
                self._start_skipping()
        elif self.count == self._next:
            values[self._rng.randrange(self.capacity)] = x
            self._w *= math.exp(math.log(1.0 - self._rng.random()) / self.capacity)
            self._skip()

    def extend(self, values: Iterable[float]) -> None:
        """:meth:`add` every value, in order."""
        for v in values:
            self.add(v)

    def _start_skipping(self) -> None:
        """The reservoir just filled: draw its largest key and the first index to replace."""
        self._w = math.exp(math.log(1.0 - self._rng.random()) / self.capacity)
        self._skip()

    def _skip(self) -> None:
        """Draw the index of the next value to replace one in the full reservoir."""
        u = 1.0 - self._rng.random()  # (0, 1]
        w = min(self._w, 1.0 - 2.0**-53)
        self._next = self.count + int(math.floor(math.log(u) / math.log1p(-w))) + 1

    def merge(self, other: SampleStats) -> None:
        """Add ``other``'s samples (e.g. a departed person's) to this holder. Count and sum
        stay exact; the sample stays a uniform sample of the union. If ``other`` still holds
        every value (``count <= capacity``) they are added in order, as :meth:`add` would, in
        time proportional to ``other.count``; otherwise a hypergeometric share is drawn from
        each side. ``other``'s recent values follow this holder's."""
        if other.count == 0:
            return
        if len(other._values) == other.count:  # ``other`` holds every value: adding them is exact
            self.extend(other._values)
            return
        n_a, n_b = self.count, other.count
        self._recent.extend(other._recent)
        k = self.capacity
        gen = np.random.default_rng(self._rng.getrandbits(64))
        from_a = int(gen.hypergeometric(n_a, n_b, k)) if n_a else 0
        from_a = min(from_a, len(self._values), k)
        from_b = min(k - from_a, len(other._values))
        a = self._rng.sample(list(self._values), from_a)
        b = self._rng.sample(list(other._values), from_b)
        self._values = array("d", a + b)
        self.count, self.total = n_a + n_b, self.total + other.total
        if len(self._values) == k:  # the largest key of k among count uniforms: Beta(k, count - k + 1)
            self._w = self._rng.betavariate(k, self.count - k + 1)
            self._skip()

    # -- reading ---------------------------------------------------------------------------
    @property
    def mean(self) -> float:
        """Mean of every value added (NaN if none)."""
        return self.total / self.count if self.count else float("nan")

    def percentile(self, q: float) -> float:
        """``q``-th percentile (0-100, numpy's linear method) of every value added: exact while
        ``count <= capacity``, else estimated (module doc). NaN if none."""
        return float(np.percentile(np.asarray(self), q)) if len(self._values) else float("nan")

    def median(self) -> float:
        """:meth:`percentile` 50."""
        return self.percentile(50.0)

    def recent(self, n: int | None = None) -> np.ndarray:
        """``(m,)`` float64: the last ``min(n, recent, count)`` values, oldest first."""
        held = np.array(list(self._recent), dtype=np.float64)
        return held if n is None else held[max(held.size - n, 0) :]

    @property
    def stored(self) -> int:
        """Values held in memory (sample plus recent): at most ``capacity + recent``."""
        return len(self._values) + len(self._recent)

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[float]:
        return iter(self._values.tolist())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        held = self._values[:]  # an atomic copy: a writer thread may append meanwhile
        a = np.array(held, dtype=np.float64) if len(held) else np.empty(0)
        return a if dtype is None else a.astype(dtype)

    def __repr__(self) -> str:
        return f"SampleStats(count={self.count}, held={len(self)}, capacity={self.capacity}, mean={self.mean:.6g})"
