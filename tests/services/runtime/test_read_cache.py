"""The read cache: answers kept until a write or their time is up, never a stale one stored."""

from __future__ import annotations

import asyncio

import pytest
from csd.staff.v1 import staff_pb2

from services.runtime.errors import NotFound
from services.runtime.read_cache import ReadCache


def person(name: str) -> staff_pb2.Person:
    return staff_pb2.Person(id="zhao.lei", name=name)


async def test_a_second_read_is_answered_from_memory_until_a_write_clears_it() -> None:
    cache, loads = ReadCache(), []

    async def load() -> staff_pb2.Person:
        loads.append(1)
        return person(f"v{len(loads)}")

    assert (await cache.read("k", load)).name == "v1"
    assert (await cache.read("k", load)).name == "v1"
    cache.clear()
    assert (await cache.read("k", load)).name == "v2"
    assert len(loads) == 2


async def test_an_answer_expires_after_its_time() -> None:
    cache, loads = ReadCache(ttl_seconds=0.05), []

    async def load() -> staff_pb2.Person:
        loads.append(1)
        return person("x")

    await cache.read("k", load)
    await asyncio.sleep(0.1)
    await cache.read("k", load)
    assert len(loads) == 2


async def test_a_read_that_began_before_a_write_does_not_store_what_it_read() -> None:
    cache = ReadCache()
    reading, written = asyncio.Event(), asyncio.Event()

    async def old() -> staff_pb2.Person:
        reading.set()
        await written.wait()
        return person("before the write")

    slow = asyncio.create_task(cache.read("k", old))
    await reading.wait()
    cache.clear()  # the write commits while the read is still on its way
    written.set()
    assert (await slow).name == "before the write"

    async def new() -> staff_pb2.Person:
        return person("after the write")

    assert (await cache.read("k", new)).name == "after the write"


async def test_refusals_are_not_cached_and_the_oldest_answers_go_first() -> None:
    cache, calls = ReadCache(max_entries=2), []

    async def missing() -> staff_pb2.Person:
        calls.append(1)
        raise NotFound("person 'x' is not in the staff directory")

    for _ in range(2):
        with pytest.raises(NotFound):
            await cache.read("x", missing)
    assert len(calls) == 2

    async def found() -> staff_pb2.Person:
        calls.append(1)
        return person("y")

    for key in ("a", "b", "c", "a"):
        await cache.read(key, found)
    # "a" was pushed out by "c" and loaded again.
    assert len(calls) == 2 + 4
