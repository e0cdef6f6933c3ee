"""The fault suite uses the gateway fixtures of the gateway tests."""

from tests.services.gateway.conftest import gateway

__all__ = ["gateway"]
