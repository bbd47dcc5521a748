#!/usr/bin/env bash
# `make run`: everything on one machine with no database or broker server (SQLite in WAL mode and a filesystem
# broker under var/), unless DATABASE_URL / CELERY_BROKER_URL say otherwise. Starts a real Celery worker, runs
# the web-default recipe on the demo crawl (or on the files given), then serves the console. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export VAR_DIR="${VAR_DIR:-$PWD/var}"
mkdir -p "$VAR_DIR/log"

pids=()
cleanup() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo; echo "stopping ${pids[*]}"
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup INT TERM EXIT

# The development secret key under VAR_DIR (settings never write files), then the database.
$PY manage.py local_setup
$PY manage.py migrate --noinput -v 0
echo "Demo users (user / password):"
$PY manage.py create_demo_users
echo "Demo annotation projects (one of each kind, English and Chinese items):"
$PY manage.py annotation_demo

if [ $# -gt 0 ]; then
  inputs=("$@")
else
  $PY -m curation.demo "$VAR_DIR/demo-crawl" >/dev/null
  inputs=("$VAR_DIR/demo-crawl")
fi

echo "starting a Celery worker (log: $VAR_DIR/log/worker.log)"
.venv/bin/celery -A workers.celery worker -Q curation,default --concurrency 2 --loglevel INFO \
  --hostname "local-$$@%h" >"$VAR_DIR/log/worker.log" 2>&1 &
pids+=($!)

output="$VAR_DIR/storage/jobs/run-$(date -u +%Y%m%dT%H%M%SZ)"
$PY manage.py curate --recipe web-default --input "${inputs[@]}" --output "$output" --wait || {
  echo "the job did not complete; see $VAR_DIR/log/worker.log" >&2
}

echo
echo "Console: http://127.0.0.1:8000  (log in as engineer / engineer-demo-pass; admin / admin-demo-pass)"
echo "Output:  $output"
echo "Ctrl-C stops the web server and the worker."
$PY manage.py runserver 127.0.0.1:8000 --noreload &
pids+=($!)
wait "${pids[@]}"
