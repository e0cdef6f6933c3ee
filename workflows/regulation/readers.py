"""Who is asking to read a case, as the rules that decide it need to know them."""

from __future__ import annotations

from typing import Protocol


class Reader(Protocol):
    """A staff member: their id, their role and their region (empty for department-wide)."""

    @property
    def id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def region_code(self) -> str: ...
