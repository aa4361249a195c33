"""gunicorn settings for production (`make serve`, docs/deployment.md); each one can be changed
from the environment. `gunicorn -c config/gunicorn.py` serves config.wsgi."""

import os

wsgi_app = "config.wsgi:application"
# Loopback only: a reverse proxy terminating HTTPS forwards to it.
bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# Synchronous workers, about two per core: pages come from the cache, the rest is database work.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Load the application once, then fork the workers: faster starts and shared memory pages. (A
# new release needs a restart, not a HUP.)
preload_app = True
# The previews of large admin imports (the imports themselves are tasks) and the PDF report
# run inside the request: give them two minutes.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that no slow leak grows without bound. Not too often: a worker
# serves some 1,000 kept pages a second, and a new one starts with an empty memory of them.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
# Access logs to stdout when asked for (the reverse proxy usually keeps them); errors always.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# No control socket: it lives at one path per user, which several instances would share.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
