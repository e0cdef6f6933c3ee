"""Activities: thin classes over the gRPC stubs of the staff, finance and notify services."""
