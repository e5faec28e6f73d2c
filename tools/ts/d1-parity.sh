#!/usr/bin/env bash
# D1 parity (make d1-parity): apply schema/'s migrations with wrangler's
# local D1 (the pinned wrangler of tools/ts/package.json, offline) and
# compare the schema D1 built with schema/schema.sql, the one the orgdb
# runner builds. No network is needed beyond the npm registry for the
# first `npm ci`; no prompt, no telemetry.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
wrangler=$root/tools/ts/node_modules/.bin/wrangler
test -x "$wrangler" || npm ci --prefix "$root/tools/ts" --no-audit --no-fund --silent

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# wrangler applies every .sql file of migrations_dir: give it only the
# numbered migrations, not the snapshot schema.sql.
mkdir "$tmp/migrations"
cp "$root"/schema/[0-9]*_*.sql "$tmp/migrations/"
cat >"$tmp/wrangler.json" <<'JSON'
{
  "name": "orgdb-d1-parity",
  "compatibility_date": "2025-01-01",
  "d1_databases": [
    {"binding": "DB", "database_name": "orgdb", "database_id": "00000000-0000-0000-0000-000000000000", "migrations_dir": "migrations"}
  ]
}
JSON
# CI=true: no prompt (the apply confirmation); WRANGLER_SEND_METRICS=false:
# no telemetry; its config and logs stay in the temporary folder.
if ! (cd "$tmp" && CI=true WRANGLER_SEND_METRICS=false XDG_CONFIG_HOME="$tmp/config" WRANGLER_LOG_PATH="$tmp/logs" \
  "$wrangler" d1 migrations apply orgdb --local </dev/null >"$tmp/wrangler.log" 2>&1); then
  cat "$tmp/wrangler.log" >&2
  echo "d1-parity: wrangler d1 migrations apply --local failed (above): a migration D1 refuses; see make lint-migrations (code D1)" >&2
  exit 1
fi
db=$(find "$tmp/.wrangler/state" -name '*.sqlite' ! -name metadata.sqlite)
if [ "$(printf '%s\n' "$db" | grep -c .)" != 1 ]; then
  echo "d1-parity: want one D1 database file under .wrangler/state, found: ${db:-none}" >&2
  exit 1
fi
cd "$root"
go run ./internal/cmd/d1parity -db "$db" -schema schema/schema.sql
echo "d1-parity: wrangler $(node -p "require('$root/tools/ts/node_modules/wrangler/package.json').version")'s local D1 builds exactly schema/schema.sql from the $(ls "$tmp/migrations" | wc -l) migrations"
