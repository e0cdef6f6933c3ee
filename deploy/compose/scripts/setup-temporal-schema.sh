#!/bin/sh
# temporal-schema (admin-tools): create Temporal's two databases when missing and bring both
# schemas to the versions this admin-tools image (the server's version) ships. Safe to rerun.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}"
SQL_PASSWORD="$(cat /run/secrets/temporal_db_password)"
export SQL_PASSWORD
PORT="${DB_PORT:-5432}"
SCHEMA=/etc/temporal/schema/postgresql/v12

until nc -z -w 5 "$POSTGRES_SEEDS" "$PORT"; do sleep 1; done

sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" --db "$@"; }

for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  # `create` fails when the database exists: that is the rerun case.
  sql "$db" create || true
  # setup-schema -v 0.0 only creates the version table, and not when it is there already.
  sql "$db" setup-schema -v 0.0 || true
  sql "$db" update-schema -d "$SCHEMA/$dir/versioned"
done
echo "temporal schemas are current"
