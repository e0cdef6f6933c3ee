"""The gateway: the public gRPC API that starts, updates and queries csd-ops workflows."""
