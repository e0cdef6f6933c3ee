"""Money as every process handles it: whole fen (1 yuan = 100 fen), never a float, within one
documented ceiling, shown as yuan with two decimals."""

from __future__ import annotations

from workflows.regulation.refusals import InvalidInput

# 100 million yuan: the most one amount may be, so that no month's sum can overflow.
MAX_AMOUNT_FEN = 100_000_000 * 100


def whole_fen(value: object, field: str) -> int:
    """`value` if it is whole positive fen within the ceiling; a float or a bool is refused."""
    if type(value) is not int or not 0 < value <= MAX_AMOUNT_FEN:
        raise InvalidInput(f"{field}: whole fen, more than 0 and at most 100 million yuan")
    return value


def yuan(fen: int) -> str:
    """12345 -> "123.45"."""
    return f"{fen // 100}.{fen % 100:02d}"
