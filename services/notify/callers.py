"""Who may call each NotifyService RPC (services/runtime/peers.py enforces it under mutual TLS).

Only the worker sends (every mail, call and alert belongs to a process); the delivery log, which
holds addresses, phone numbers and messages, is read by the worker and the operators.
"""

from __future__ import annotations

from services.runtime.tls import ADMIN, WORKER

_SENDERS = frozenset({WORKER})
_LOG_READERS = frozenset({WORKER, ADMIN})

CALLERS: dict[str, frozenset[str]] = {
    "SendEmail": _SENDERS,
    "PlaceCall": _SENDERS,
    "SendSms": _SENDERS,
    "SendAlert": _SENDERS,
    "GetDelivery": _LOG_READERS,
    "ListDeliveries": _LOG_READERS,
}
