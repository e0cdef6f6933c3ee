"""The `csd` command: run the whole system in development, check its health, load demo data."""
