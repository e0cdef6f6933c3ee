"""The shared email-address rules (services/runtime/email_address.py) that notify sends by."""

from __future__ import annotations

import pytest

from services.runtime.email_address import MAX_ADDRESS_LENGTH, parse_address, valid_email_address

LONG_MAILBOX = "m" * (MAX_ADDRESS_LENGTH - len("@csd.example"))


@pytest.mark.parametrize(
    ("text", "addr_spec", "display_name"),
    [
        ("wang.qiang@csd.example", "wang.qiang@csd.example", ""),
        ("  wang.qiang@csd.example  ", "wang.qiang@csd.example", ""),
        ("王强 <wang.qiang@csd.example>", "wang.qiang@csd.example", "王强"),
        (
            '"Wang, Qiang" <wang.qiang@mail.csd.example>',
            "wang.qiang@mail.csd.example",
            "Wang, Qiang",
        ),
        (f"{LONG_MAILBOX}@csd.example", f"{LONG_MAILBOX}@csd.example", ""),
    ],
)
def test_one_address_with_or_without_a_name_is_accepted(
    text: str, addr_spec: str, display_name: str
) -> None:
    address = parse_address(text)
    assert (address.addr_spec, address.display_name) == (addr_spec, display_name)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "wang.qiang",
        "wang.qiang@",
        "@csd.example",
        "wang.qiang@csd",
        "a@b..c",
        "a@.csd.example",
        "a@csd.example.",
        "a@csd.example, b@csd.example",
        "a@csd.example b@csd.example",
        "王强 <wang.qiang@csd.example",
    ],
)
def test_anything_else_is_refused_with_an_example_of_what_would_do(text: str) -> None:
    with pytest.raises(ValueError, match=r"like name@csd\.example"):
        parse_address(text)
    assert not valid_email_address(text)


@pytest.mark.parametrize("text", ["a@csd.example\r\nBcc: x@evil.example", "a@csd.example\n"])
def test_a_line_break_is_refused_so_no_header_can_be_added(text: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        parse_address(text)
    assert not valid_email_address(text)


def test_an_address_longer_than_smtp_allows_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than 254"):
        parse_address(f"{LONG_MAILBOX}x@csd.example")


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("zhang.wei@csd.example", True),
        ("zhang.wei+leave@mail.csd.example", True),
        ("张伟 <zhang.wei@csd.example>", False),
        ("<zhang.wei@csd.example>", False),
        (" zhang.wei@csd.example", False),
        ("zhang.wei@csd..example", False),
    ],
)
def test_a_directory_address_is_one_bare_address(text: str, valid: bool) -> None:
    assert valid_email_address(text) is valid
