#!/usr/bin/env bash
# The figures of docs/performance.md, "Serving and load", on the demo data:
#   scripts/with_postgres.sh scripts/serving_figures.sh
# 1. the serving benchmark (bench.serving serve: gunicorn with 2 workers, cold and
#    with Redis, beside a bare Django view and a plain Wagtail page);
# 2. a load run against the site served the production way (gunicorn with WORKERS workers, Redis):
#    the public scoreboard page, scoreboard.json and the admin review queue of a logged-in juror,
#    CLIENTS concurrent clients for DURATION seconds each.
# PORTS: the loopback ports the servers may use (default 8240-8249).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?run this under scripts/with_postgres.sh or set DATABASE_URL}"
PY=.venv/bin/python
PORTS=${PORTS:-8240-8249}
FIRST_PORT=${PORTS%-*}
WORKERS=${WORKERS:-4}
CLIENTS=${CLIENTS:-50}
DURATION=${DURATION:-30}
BENCH_DURATION=${BENCH_DURATION:-10}
COMPETITION=/hcmc-2025-digital-government/
export SECRET_KEY=${SECRET_KEY:-$($PY -c 'import secrets; print(secrets.token_urlsafe(60))')}

echo "== Demo data"
DJANGO_SETTINGS_MODULE=config.settings.dev $PY manage.py migrate --noinput --verbosity 0
DJANGO_SETTINGS_MODULE=config.settings.dev $PY manage.py demo_setup >/dev/null
DJANGO_SETTINGS_MODULE=config.settings.dev $PY manage.py shell --verbosity 0 -c "
from competition.models import CommitmentPage, Submission
print(CommitmentPage.objects.filter(competition__slug='hcmc-2025-digital-government').count(), 'agencies,',
      Submission.objects.filter(line__commitment__competition__slug='hcmc-2025-digital-government').count(),
      'submissions in the HCMC competition')"

echo "== Serving benchmark (2 workers, ${BENCH_DURATION} s per row)"
$PY -m bench.serving serve "$DATABASE_URL" "$COMPETITION" --duration "$BENCH_DURATION" --rounds "${ROUNDS:-3}" \
    --ports "$FIRST_PORT-$((FIRST_PORT + 4))"

echo "== Load: gunicorn with $WORKERS workers and Redis, $CLIENTS clients, ${DURATION} s per URL"
REDIS_PORT=$((FIRST_PORT + 5))
WEB_PORT=$((FIRST_PORT + 6))
REDIS_DIR=$(mktemp -d)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$REDIS_DIR" >/dev/null &
REDIS_PID=$!
export DJANGO_SETTINGS_MODULE=config.settings.bench CACHE_URL="redis://127.0.0.1:$REDIS_PORT/0" CONN_MAX_AGE=60
PORT=$WEB_PORT WEB_CONCURRENCY=$WORKERS .venv/bin/gunicorn --config config/gunicorn.py &
WEB_PID=$!
stop() { kill "$WEB_PID" "$REDIS_PID" 2>/dev/null || true; wait "$WEB_PID" "$REDIS_PID" 2>/dev/null || true; rm -rf "$REDIS_DIR"; }
trap stop EXIT
for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT") 2>/dev/null && break
    sleep 0.2
done
SESSION=$($PY manage.py shell --verbosity 0 -c "
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.get(username='juror.nguyen')
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)")
$PY -m bench.serving load "http://127.0.0.1:$WEB_PORT" "$COMPETITION" --session "$SESSION" \
    --duration "$DURATION" --connections "$CLIENTS"
