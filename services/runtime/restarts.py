"""How long to wait before starting a crashed child process again: the one policy of `csd dev`'s
supervisor and `csd worker --processes`."""

from __future__ import annotations

from dataclasses import dataclass

FIRST_SECONDS = 0.5
LONGEST_SECONDS = 30.0
# A child that ran this long before it died was healthy: its next restart starts anew.
STEADY_SECONDS = 60.0


@dataclass
class Backoff:
    """The first wait, doubled after every crash up to the longest, and back to the first once
    a run lasted STEADY_SECONDS."""

    next_seconds: float = FIRST_SECONDS

    def after(self, lasted_seconds: float) -> float:
        """The wait before the restart of a child that ran `lasted_seconds` and died."""
        if lasted_seconds >= STEADY_SECONDS:
            self.next_seconds = FIRST_SECONDS
        delay = self.next_seconds
        self.next_seconds = min(delay * 2, LONGEST_SECONDS)
        return delay
