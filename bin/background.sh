# Sourced by bin/run and bin/dev: the Celery worker (every queue) and the scheduler in the
# background, stopped with everything the script started when it exits (Ctrl-C included).
# umask 077: what the shell and gunicorn's master create before any of our code runs (the
# worker and beat logs, the access log, beat's schedule) is private too (config/private_files.py).
umask 077
PY=.venv/bin/python
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

start_worker_and_beat() {
  mkdir -p var/log
  # Enough worker processes for every type's limit at once: no queue waits behind another.
  local concurrency queues
  read -r concurrency queues < <($PY -c "
import django, os
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')
django.setup()
from django.conf import settings
from sessions_app.services.queueing import QUEUES
print(sum(settings.SESSION_LIMITS.values()) + 1, ','.join(QUEUES))")
  .venv/bin/celery -A config worker -Q "$queues" -c "$concurrency" \
    -n "embedded@%h" --loglevel INFO >>var/log/worker.log 2>&1 &
  pids+=($!)
  .venv/bin/celery -A config beat --schedule var/celerybeat-schedule --loglevel INFO >>var/log/beat.log 2>&1 &
  pids+=($!)
  sleep 3
  local names=(worker beat) i
  for i in 0 1; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "The Celery ${names[$i]} did not start; the end of var/log/${names[$i]}.log:" >&2
      tail -n 20 "var/log/${names[$i]}.log" >&2
      exit 1
    fi
  done
  echo "Worker ($concurrency processes) and scheduler started (logs in var/log/)."
}
