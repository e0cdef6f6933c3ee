"""The body of every service's Alembic env.py: run on the connection handed in by `migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData


def run_migrations(target_metadata: MetaData) -> None:
    """Run the pending migrations on the connection `database.migrate` put in the config."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through services.runtime.database.migrate")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=context.config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
