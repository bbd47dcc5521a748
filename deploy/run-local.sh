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
# Stop what this script started: TERM first (Celery's warm shutdown lets running shards finish), then, after
# STOP_GRACE_SECONDS, QUIT (Celery's cold shutdown) and KILL, so that SIGTERM to the whole process group (a
# supervisor, `timeout`, a CI runner) stops the worker within seconds, as Ctrl-C does. A shard cut off here is
# run again by the next worker (its lease expires).
STOP_GRACE_SECONDS="${STOP_GRACE_SECONDS:-10}"
alive() {
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
cleanup() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo; echo "stopping ${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq $((STOP_GRACE_SECONDS * 5))); do alive "${pids[@]}" || break; sleep 0.2; done
    if alive "${pids[@]}"; then
      kill -QUIT "${pids[@]}" 2>/dev/null || true
      sleep 2
      kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
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

# -B: the worker runs celery beat too (one scheduler for this one machine), so schedules fire under `make run`.
echo "starting a Celery worker with the scheduler (log: $VAR_DIR/log/worker.log)"
.venv/bin/celery -A workers.celery worker -B -Q curation,default,training --concurrency 2 --loglevel INFO \
  --hostname "local-$$@%h" --schedule "$VAR_DIR/celerybeat-schedule" >"$VAR_DIR/log/worker.log" 2>&1 &
pids+=($!)

output="$VAR_DIR/storage/jobs/run-$(date -u +%Y%m%dT%H%M%SZ)"
$PY manage.py curate --recipe web-default --input "${inputs[@]}" --output "$output" --wait || {
  echo "the job did not complete; see $VAR_DIR/log/worker.log" >&2
}

# The training chain on a tiny model built here (SFT -> reward model -> PPO), run by the same worker while the
# console is served; its page shows the stages live. TRAINING_DEMO=0 leaves it out.
if [ "${TRAINING_DEMO:-1}" != "0" ]; then
  echo "Submitting the training demo (tiny model, SFT -> reward -> PPO) to the worker:"
  $PY manage.py training_demo --output "$VAR_DIR/training-demo" || echo "the training demo could not be submitted" >&2
fi

echo
echo "Console: http://127.0.0.1:8000  (log in as engineer / engineer-demo-pass; admin / admin-demo-pass)"
echo "Output:  $output"
echo "Ctrl-C (or SIGTERM) stops the web server, the worker and its scheduler."
$PY manage.py runserver 127.0.0.1:8000 --noreload &
pids+=($!)
wait "${pids[@]}"
