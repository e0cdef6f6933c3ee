"""Email addresses as csd-ops accepts them, in one place for every service.

The standard library's parser is lenient: it takes "a@b..c", several addresses in one string, or
a line break that would let a caller add headers. These functions refuse all of that, so an
address the staff directory stores is one the notify service can send to.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.policy import default

# A mailbox, "@", and a domain of two or more non-empty labels.
_ADDR_SPEC = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# RFC 5321 caps a forward path at 256 octets, angle brackets included.
MAX_ADDRESS_LENGTH = 254


def parse_address(text: str) -> Address:
    """One address, bare or with a display name ("张伟 <zhang.wei@csd.example>").

    Raises ValueError saying what is wrong otherwise.
    """
    if "\r" in text or "\n" in text:
        raise ValueError("an address cannot contain a line break")
    try:
        header = default.header_factory("To", text.strip())
    except Exception:
        # The stdlib parser meets some malformed input ("name@") with IndexError and the like.
        header = None
    if header is None or header.defects or len(header.addresses) != 1:
        raise ValueError("expected one address like name@csd.example or 张伟 <name@csd.example>")
    address: Address = header.addresses[0]
    if not _ADDR_SPEC.match(address.addr_spec):
        raise ValueError("the address needs a mailbox and a domain, like name@csd.example")
    if len(address.addr_spec) > MAX_ADDRESS_LENGTH:
        raise ValueError(f"the address is longer than {MAX_ADDRESS_LENGTH} characters")
    return address


def valid_email_address(text: str) -> bool:
    """Whether `text` is exactly one bare address (name@csd.example), as a directory stores it.

    A display name, surrounding spaces or anything parse_address refuses make it False.
    """
    try:
        address = parse_address(text)
    except ValueError:
        return False
    return address.addr_spec == text and not address.display_name
