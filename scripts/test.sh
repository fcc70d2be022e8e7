#!/usr/bin/env bash
# The whole test suite with a real Elasticsearch: start one node from Maven Central's
# distribution, run pytest against it, stop it whatever happens. Used by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${HPMON_TEST_ES_PORT:-9400}"
scripts/elasticsearch.sh fetch
scripts/elasticsearch.sh start --port "$port" --cluster test
trap 'scripts/elasticsearch.sh stop --cluster test --remove' EXIT
HPMON_ES_URL="http://127.0.0.1:$port" .venv/bin/python -m pytest -q "$@"
