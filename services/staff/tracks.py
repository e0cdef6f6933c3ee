"""ORG-1: the two 16-level career tracks and the title each level carries."""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = range(1, 17)
DEPARTMENT_MANAGER_LEVEL = 16


@dataclass(frozen=True)
class Band:
    first: int
    title: str
    # The source restarts the grade count within a band, except the technical track's
    # intermediate band, which runs L1-L6 across levels 4-9.
    grade_offset: int = 0


_CUSTOMER_RELATIONS = (
    Band(1, "Customer Service Engineer"),
    Band(4, "Intermediate Customer Service Engineer"),
    Band(7, "Senior Customer Service Engineer"),
    Band(10, "Customer Service Supervisor"),
    Band(13, "Customer Service Manager"),
)
_TECHNICAL_SERVICE = (
    Band(1, "Technical Service Engineer"),
    Band(4, "Intermediate Technical Service Engineer"),
    Band(7, "Intermediate Technical Service Engineer", grade_offset=3),
    Band(10, "Senior Technical Service Engineer"),
    Band(13, "Principal Technical Service Engineer"),
)
TRACKS = {"customer_relations": _CUSTOMER_RELATIONS, "technical_service": _TECHNICAL_SERVICE}


def title_for(track: str, level: int) -> str:
    """The ORG-1 title of `level` on `track`, e.g. ("technical_service", 8) -> "... L5"."""
    if level not in LEVELS:
        raise ValueError(f"level must be 1..16, not {level}")
    if level == DEPARTMENT_MANAGER_LEVEL:
        return "Department Manager"
    band = next(b for b in reversed(TRACKS[track]) if level >= b.first)
    return f"{band.title} L{level - band.first + 1 + band.grade_offset}"
