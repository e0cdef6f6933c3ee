"""The staff service: organisation, roles, regions, reporting lines, on-call and routing."""
