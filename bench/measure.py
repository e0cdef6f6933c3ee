"""Latency sampling for the benchmarks: fixed-size request loops, percentiles, rounds."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Call = Callable[[int], Awaitable[object]]


async def latencies(
    call: Call, *, requests: int, concurrency: int, pause_s: float = 0.0
) -> list[float]:
    """Run `requests` calls, at most `concurrency` at once, each lane waiting `pause_s` after
    each of its calls; each call's latency in ms."""
    samples: list[float] = []
    counter = iter(range(requests))

    async def lane() -> None:
        for n in counter:
            started = time.perf_counter()
            await call(n)
            samples.append((time.perf_counter() - started) * 1000)
            if pause_s:
                await asyncio.sleep(pause_s)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return samples


async def paced(calls: list[Call], *, rate: float, count: int) -> list[list[float]]:
    """Open-loop load: `count` ticks at `rate` per second, each tick starting every call in
    `calls` (spread evenly over the tick, so ours and its floor meet the same moment's noise);
    each call's latencies in ms. A slow reply never delays the next request."""
    loop = asyncio.get_running_loop()
    samples: list[list[float]] = [[] for _ in calls]

    async def timed(which: int, n: int) -> None:
        started = time.perf_counter()
        await calls[which](n)
        samples[which].append((time.perf_counter() - started) * 1000)

    began = loop.time()
    tasks = []
    for n in range(count):
        for which in range(len(calls)):
            at = began + (n + which / len(calls)) / rate
            await asyncio.sleep(max(0.0, at - loop.time()))
            tasks.append(asyncio.create_task(timed(which, n)))
    await asyncio.gather(*tasks)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def p50_p99(samples: list[float]) -> str:
    """Latencies in ms as the detail lines quote them."""
    return f"p50 {percentile(samples, 0.5):.1f} ms, p99 {percentile(samples, 0.99):.1f} ms"


@dataclass
class Figure:
    """One benchmark figure over several rounds: the median, with min and max."""

    name: str
    unit: str
    values: list[float]
    floors: list[float] | None
    target: float
    higher_is_better: bool = False
    # A second target on value / floor (e.g. "p99 at most twice the bare call's").
    floor_ratio_target: float | None = None
    # The floor's unit, when it is not the figure's own (a ratio's floor is in ms, say).
    floor_unit: str = ""

    @property
    def value(self) -> float:
        return statistics.median(self.values)

    @property
    def floor(self) -> float | None:
        return statistics.median(self.floors) if self.floors else None

    @property
    def ratio(self) -> float | None:
        """Ours over the floor; a figure that is itself a ratio is its own."""
        if self.unit == "ratio":
            return self.value
        floor = self.floor
        return self.value / floor if floor else None

    @property
    def met(self) -> bool:
        met = self.value >= self.target if self.higher_is_better else self.value <= self.target
        if self.floor_ratio_target is not None and self.ratio is not None:
            met = met and self.ratio <= self.floor_ratio_target
        return met

    @property
    def target_text(self) -> str:
        unit = "" if self.unit == "ratio" else f" {self.unit}"
        sign = ">=" if self.higher_is_better else "<="
        text = f"{sign} {self.target:g}{unit}"
        if self.floor_ratio_target is not None:
            text += f" and <= {self.floor_ratio_target:g}x floor"
        return text
