"""Task queues, in one place: every worker and every starter names them from here."""

MAIN = "csd-ops"
