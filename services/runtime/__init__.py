"""What every csd-ops process shares: logging, the gRPC server frame, the database, errors."""
