"""The regulation's allowance and reimbursement tables (PAY-3..PAY-7), in yuan, as the source
sets them. An amount the source does not set is absent, never invented.

Keys are plain words: pay groups `engineer`, `lead_or_technical_manager`,
`customer_service_manager`; tiers `tier_1`, `tier_2`, `other`, `head_office`. The finance
service publishes these tables as its first policy version (services/finance/regulation.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

ENGINEER = "engineer"
LEAD_OR_MANAGER = "lead_or_technical_manager"
CUSTOMER_SERVICE_MANAGER = "customer_service_manager"
# A place's tier as the finance policy and the statement name it (PAY-3).
PLACE_TIERS = ("1", "2", "other", "head_office")


@dataclass(frozen=True)
class AllowanceTables:
    # PAY-3, yuan per day by the destination's tier. The customer service manager and the
    # department manager are not set by the source.
    travel_daily: dict[str, dict[str, int]] = field(default_factory=dict)
    # PAY-4, yuan per night; the department manager is not set.
    lodging_nightly_cap: dict[str, int] = field(default_factory=dict)
    # PAY-5, yuan per month (the source prints "per day" for the managers; per month is meant).
    communication_monthly: dict[str, int] = field(default_factory=dict)
    # PAY-6, yuan per month.
    transport_monthly: dict[str, int] = field(default_factory=dict)
    # PAY-7, yuan per person per month; the engineer is not set.
    reimbursement_monthly_cap: dict[str, int] = field(default_factory=dict)


ALLOWANCES_2024 = AllowanceTables(
    travel_daily={
        ENGINEER: {"tier_1": 55, "tier_2": 45, "other": 35, "head_office": 20},
        LEAD_OR_MANAGER: {"tier_1": 70, "tier_2": 60, "other": 50, "head_office": 30},
    },
    lodging_nightly_cap={ENGINEER: 100, LEAD_OR_MANAGER: 130, CUSTOMER_SERVICE_MANAGER: 160},
    communication_monthly={ENGINEER: 100, LEAD_OR_MANAGER: 150, CUSTOMER_SERVICE_MANAGER: 200},
    transport_monthly={ENGINEER: 150, LEAD_OR_MANAGER: 200, CUSTOMER_SERVICE_MANAGER: 200},
    reimbursement_monthly_cap={LEAD_OR_MANAGER: 2000, CUSTOMER_SERVICE_MANAGER: 4000},
)


# The pay group each role's allowances and claims follow (the tables' columns). Roles without
# one (the assistant, the clerk, sales...) are not paid from these tables.
PAY_GROUP_OF_ROLE = MappingProxyType(
    {
        "technical_service_engineer": ENGINEER,
        "senior_support_engineer": ENGINEER,
        "technical_service_team_lead": LEAD_OR_MANAGER,
        "technical_service_manager": LEAD_OR_MANAGER,
        "customer_service_manager": CUSTOMER_SERVICE_MANAGER,
        "department_manager": "department_manager",
    }
)
