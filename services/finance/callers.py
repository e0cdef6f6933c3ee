"""Who may call each FinanceService RPC (services/runtime/peers.py enforces it under mutual TLS).

The ledger is written only by the worker (fines and settlements come from the processes); the
policy tables only by the operators' admin identity (`csd seed`, `csd policy publish`).
"""

from __future__ import annotations

from services.runtime.tls import ADMIN, GATEWAY, WORKER

_READERS = frozenset({WORKER, GATEWAY, ADMIN})

CALLERS: dict[str, frozenset[str]] = {
    "PublishPolicy": frozenset({ADMIN}),
    "GetPolicy": _READERS,
    "ListPolicyVersions": _READERS,
    "LookupRate": _READERS,
    "RecordEntry": frozenset({WORKER}),
    "ListEntries": frozenset({WORKER, ADMIN}),
    "SummarizeRegionMonth": _READERS,
    # Reads only: the claim process (worker) and a claimant's preview (gateway).
    "AuditClaim": _READERS,
    # Written by the pre-approval process only.
    "RecordPreApproval": frozenset({WORKER}),
    # What an approved claim used, recorded by the claim process.
    "RecordClaimUsage": frozenset({WORKER}),
    # PAY-1: a salary change is executed by its process (worker); admin loads the first ones.
    "RecordSalary": frozenset({WORKER, ADMIN}),
    # PAY-2: entered by a department manager through the gateway.
    "RecordPerformancePay": frozenset({GATEWAY, ADMIN}),
    "GetSettlement": _READERS,
    # PAY-2: the monthly settlement process (worker) closes a month; an operator may too.
    "SettleMonth": frozenset({WORKER, ADMIN}),
    "ListSettlements": _READERS,
    # PAY-3: an approved dispute, recorded by its process.
    "RecordRateAdjustment": frozenset({WORKER}),
}
