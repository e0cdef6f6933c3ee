import pytest

from services.staff.tracks import title_for


@pytest.mark.parametrize(
    ("track", "level", "title"),
    [
        ("customer_relations", 1, "Customer Service Engineer L1"),
        ("customer_relations", 6, "Intermediate Customer Service Engineer L3"),
        ("customer_relations", 9, "Senior Customer Service Engineer L3"),
        ("customer_relations", 10, "Customer Service Supervisor L1"),
        ("customer_relations", 15, "Customer Service Manager L3"),
        ("technical_service", 3, "Technical Service Engineer L3"),
        ("technical_service", 7, "Intermediate Technical Service Engineer L4"),
        ("technical_service", 9, "Intermediate Technical Service Engineer L6"),
        ("technical_service", 12, "Senior Technical Service Engineer L3"),
        ("technical_service", 13, "Principal Technical Service Engineer L1"),
        ("technical_service", 16, "Department Manager"),
        ("customer_relations", 16, "Department Manager"),
    ],
)
def test_org1_titles_follow_the_two_tracks(track: str, level: int, title: str) -> None:
    assert title_for(track, level) == title


@pytest.mark.parametrize("level", [0, 17, -1])
def test_org1_has_sixteen_levels(level: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.16"):
        title_for("technical_service", level)
