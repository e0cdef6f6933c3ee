"""What a rule says when it refuses: plain exceptions, each naming the status it stands for.

The workflow turns one into a non-retryable ApplicationError of that type, the gateway into the
gRPC status of the same name; the words are the rule's own, so a caller reads the same sentence
whichever door they came in by.
"""

from __future__ import annotations


class Refusal(Exception):
    """A rule refused the input; `code` is the gRPC status name it stands for."""

    code = "FAILED_PRECONDITION"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(Refusal):
    """The input itself is wrong, whenever it is sent (a missing purpose, an unknown kind)."""

    code = "INVALID_ARGUMENT"


class NotAllowed(Refusal):
    """The caller is not the person the rule names (a leave decided by its requester)."""

    code = "PERMISSION_DENIED"


class NotNow(Refusal):
    """Right input, wrong moment (leave requested after it began, a closed case changed)."""

    code = "FAILED_PRECONDITION"
