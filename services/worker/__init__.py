"""The Temporal worker: every workflow and activity of csd-ops in one process."""
