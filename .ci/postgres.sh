#!/usr/bin/env bash
# Installs (if missing) and starts a local PostgreSQL 15 for the store-postgres tests and benchmark,
# creates the role and database they use, and prints the connection URL on stdout (last line).
#
#   eval "$(.ci/postgres.sh --export)"   # sets SHOAL_TEST_PG_URL in the calling shell
#   .ci/postgres.sh                      # prints postgres://shoal:shoal@127.0.0.1:5432/shoal_test
#
# Environment (all optional): PG_VERSION (15), PG_PORT (5432), PG_USER (shoal), PG_PASSWORD (shoal),
# PG_DB (shoal_test). Needs root (apt-get, pg_ctlcluster) and loopback only: the server listens on
# 127.0.0.1 with password (scram-sha-256) authentication for TCP connections, as Debian configures it.
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-shoal}"
PG_PASSWORD="${PG_PASSWORD:-shoal}"
PG_DB="${PG_DB:-shoal_test}"

log() { echo "postgres.sh: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d "/usr/lib/postgresql/${PG_VERSION}" ]; then
  log "installing PostgreSQL ${PG_VERSION} from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "postgresql-${PG_VERSION}" >&2 || apt-get install -y -qq postgresql >&2
fi

if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main"' | grep -q .; then
  log "creating cluster ${PG_VERSION}/main on port ${PG_PORT}"
  pg_createcluster "$PG_VERSION" main --port "$PG_PORT" >&2
fi

status="$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" { print $4 }')"
if [ "$status" != "online" ]; then
  log "starting cluster ${PG_VERSION}/main"
  pg_ctlcluster "$PG_VERSION" main start >&2
fi

# Wait until the server accepts connections (at most ~30 s).
for _ in $(seq 1 60); do
  if su postgres -c "pg_isready -q -p ${PG_PORT}" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
su postgres -c "pg_isready -q -p ${PG_PORT}" || { log "server did not become ready"; exit 1; }

psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtA -p ${PG_PORT} $*"; }

# Role with a password (re-set on every run so the URL below is always valid).
psql_admin "-c \"DO \\\$\\\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PG_USER}') THEN
    CREATE ROLE ${PG_USER} LOGIN PASSWORD '${PG_PASSWORD}';
  ELSE
    ALTER ROLE ${PG_USER} LOGIN PASSWORD '${PG_PASSWORD}';
  END IF;
END \\\$\\\$;\"" >&2
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'\"")" != "1" ]; then
  log "creating database ${PG_DB}"
  psql_admin "-c \"CREATE DATABASE ${PG_DB} OWNER ${PG_USER}\"" >&2
fi

url="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DB}"
if [ "${1:-}" = "--export" ]; then
  echo "export SHOAL_TEST_PG_URL='${url}'"
else
  echo "$url"
fi
