"""The notify service: email over SMTP, phone calls and SMS through a provider, manager alerts,
each sent exactly once per idempotency key and recorded in the delivery log."""
