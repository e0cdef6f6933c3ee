"""The routine meetings (MT-1..MT-3) as rule data: title, scope, who chairs, who must attend,
who is told, who takes the minutes, and the agenda."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

TSM, CSM = "technical_service_manager", "customer_service_manager"
MANAGER, ASSISTANT, SALES = "department_manager", "department_assistant", "sales"


@dataclass(frozen=True)
class MeetingRule:
    """One routine meeting. Roles are staff roles; a regional meeting finds them in its region.

    `chair` is the first role of `chair_roles` that anyone holds (the department managers when
    none does); `minutes_role` is who records the minutes (empty: the chair).
    """

    rule_id: str
    title: str
    regional: bool
    agenda: tuple[str, ...]
    chair_roles: tuple[str, ...]
    required_roles: tuple[str, ...] = ()
    notified_roles: tuple[str, ...] = ()
    minutes_role: str = ""


MEETINGS_2024 = MappingProxyType(
    {
        "MT-1": MeetingRule(
            "MT-1",
            "Regional monthly summary",
            regional=True,
            agenda=(
                "The month's customer service in the region",
                "Execution of the maintenance plans",
                "Hard and typical problems",
                "Review of the monthly report to the hospitals",
            ),
            # Chaired by the TSM or above; the CSM must attend; sales is notified.
            chair_roles=(TSM,),
            required_roles=(CSM,),
            notified_roles=(SALES,),
        ),
        "MT-2": MeetingRule(
            "MT-2",
            "Regional quarterly summary",
            regional=True,
            agenda=(
                "The quarter's problems: the technical service manager's quarterly report",
                "Results of the customer inspections",
            ),
            # Chaired by the customer service manager or above; the TSM must attend.
            chair_roles=(CSM,),
            required_roles=(TSM,),
        ),
        "MT-3": MeetingRule(
            "MT-3",
            "Department customer analysis meeting",
            regional=False,
            agenda=(
                "Dissatisfied customers, complaints, replacement risk, slow responses",
                "Maintenance contracts and final payments",
                "Requirements and bugs",
            ),
            # The department manager chairs, every TSM and CSM attends, the assistant minutes.
            chair_roles=(MANAGER,),
            required_roles=(TSM, CSM),
            minutes_role=ASSISTANT,
        ),
    }
)
