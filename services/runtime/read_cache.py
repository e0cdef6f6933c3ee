"""Answers of a service's read RPCs, kept until its next write or for a few seconds.

The organisation is read on nearly every workflow step and changes a few times a day, so the
staff service answers repeated reads from memory. Its own writes clear the cache at once, so a
caller never reads older data after a write it made through this process; another replica's
write (PostgreSQL deployments may run several) is seen within `ttl_seconds`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

DEFAULT_TTL_SECONDS = 5.0
DEFAULT_MAX_ENTRIES = 4096


class ReadCache:
    def __init__(
        self, *, ttl_seconds: float = DEFAULT_TTL_SECONDS, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Message]] = OrderedDict()
        # Bumped by every write: a read that began before it must not store what it read.
        self._generation = 0

    async def read(self, key: Hashable, load: Callable[[], Awaitable[M]]) -> M:
        """The cached answer for `key`, or `load()`'s (errors are not cached)."""
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            self._entries.move_to_end(key)
            return hit[1]  # type: ignore[return-value]
        generation = self._generation
        answer = await load()
        if generation == self._generation:
            self._entries[key] = (now + self._ttl, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return answer

    def clear(self) -> None:
        """Forget every answer: data changed."""
        self._generation += 1
        self._entries.clear()
