"""Latency sampling for the benchmarks: fixed-size request loops, percentiles, rounds."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Call = Callable[[int], Awaitable[object]]


async def latencies(call: Call, *, requests: int, concurrency: int) -> list[float]:
    """Run `requests` calls, at most `concurrency` at once; each call's latency in ms."""
    samples: list[float] = []
    counter = iter(range(requests))

    async def lane() -> None:
        for n in counter:
            started = time.perf_counter()
            await call(n)
            samples.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Figure:
    """One benchmark figure over several rounds: the median, with min and max."""

    name: str
    unit: str
    values: list[float]
    floors: list[float] | None
    target: float
    higher_is_better: bool = False

    @property
    def value(self) -> float:
        return statistics.median(self.values)

    @property
    def floor(self) -> float | None:
        return statistics.median(self.floors) if self.floors else None

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value <= self.target
