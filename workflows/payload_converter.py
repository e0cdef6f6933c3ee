"""How every csd-ops part turns Temporal payloads back into values: the SDK's default, except
that a JSON number with a fraction (or a boolean) is refused where the type says `int`.

The SDK's own JSON conversion truncates 12.5 to 12 for an `int` field, so a caller starting a
workflow with a float amount would have it silently cut: money is whole fen (the regulation's
money module), and a fraction of a fen is an error the caller must see. The refusal is a
non-retryable INVALID_ARGUMENT: an activity given one fails, and a workflow started with one
fails at once, saying which value it was.

Workflow code decodes its payloads inside the sandbox, so this lives with the workflows and
imports nothing else of ours.
"""

from __future__ import annotations

from typing import Any, ClassVar

from temporalio.converter import (
    CompositePayloadConverter,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
)
from temporalio.exceptions import ApplicationError


class WholeNumbers(JSONTypeConverter):
    def to_typed_value(self, hint: type, value: Any) -> Any:
        if hint is int and isinstance(value, float | bool):
            raise ApplicationError(
                f"{value!r} is not a whole number: amounts are whole fen and counts whole",
                type="INVALID_ARGUMENT",
                non_retryable=True,
            )
        return JSONTypeConverter.Unhandled


class StrictPayloadConverter(CompositePayloadConverter):
    """The default encodings, the JSON one with `WholeNumbers`."""

    # Built once and shared, as the SDK shares its own defaults: an encoding converter holds
    # no state, and the SDK builds a payload converter each time it binds the data converter
    # to a workflow's or an activity's context (DataConverter.with_context, dataclasses.replace
    # running __post_init__), hundreds of times a workflow with the payload codec on: 42 -> 19
    # us a binding.
    ENCODINGS: ClassVar[tuple[EncodingPayloadConverter, ...]] = tuple(
        JSONPlainPayloadConverter(custom_type_converters=[WholeNumbers()])
        if isinstance(converter, JSONPlainPayloadConverter)
        else converter
        for converter in DefaultPayloadConverter.default_encoding_payload_converters
    )

    def __init__(self) -> None:
        super().__init__(*self.ENCODINGS)
