"""The regulation as data: versioned rule sets (EF-1) with every parameter, fine, agenda,
cadence, allowance table and SLA budget, and the refusals a rule makes, in plain Python.

This package imports nothing of csd-ops and no framework (no Temporal, gRPC or SQLAlchemy), so
the workflows, the gateway, the staff cadence engine and the finance service all read the same
rules, and a rule's refusal is a plain exception each layer maps to its own status
(import-linter holds this in CI; see pyproject.toml).
"""

from workflows.regulation.refusals import (
    InvalidInput,
    NotAllowed,
    NotNow,
    Refusal,
)
from workflows.regulation.rule_sets import (
    RULE_SETS,
    NoRuleSetInForce,
    RuleSet,
    UnknownRule,
    by_version,
    in_force,
    in_force_at,
)
from workflows.regulation.zone import COMPANY_ZONE, shown

__all__ = [
    "COMPANY_ZONE",
    "RULE_SETS",
    "InvalidInput",
    "NoRuleSetInForce",
    "NotAllowed",
    "NotNow",
    "Refusal",
    "RuleSet",
    "UnknownRule",
    "by_version",
    "in_force",
    "in_force_at",
    "shown",
]
