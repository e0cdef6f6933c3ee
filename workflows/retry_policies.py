"""Named retry policies and timeouts for activity calls.

Business refusals (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, PERMISSION_DENIED) are
raised non-retryable by the activities themselves, so these policies only ever retry outages.
"""

from datetime import timedelta

from temporalio.common import RetryPolicy

# Reads of the organisation: quick, and worth retrying for as long as the service is down.
DIRECTORY_LOOKUP = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
DIRECTORY_LOOKUP_TIMEOUT = timedelta(seconds=10)

# A notification must arrive eventually: retried without limit, each channel on its own.
NOTIFICATION = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
NOTIFICATION_TIMEOUT = timedelta(seconds=30)

# A ledger write is idempotent by key, so retrying it is safe.
LEDGER_WRITE = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
LEDGER_WRITE_TIMEOUT = timedelta(seconds=15)
