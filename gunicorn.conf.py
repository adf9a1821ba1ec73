"""gunicorn's settings for serving Momento in production: `make serve`, or
`gunicorn -c gunicorn.conf.py wsgi:app` (docs/deploy.md).

Every setting can be changed from the environment without editing this file:
  GUNICORN_BIND           where to listen (default 127.0.0.1:8000; nginx is in front)
  WEB_CONCURRENCY         worker processes (default: 2 per CPU + 1)
  GUNICORN_TIMEOUT        seconds a worker may take over one request before it is killed and
                          replaced (default 60: a large photo takes well under 1 s of CPU)
  GUNICORN_GRACEFUL_TIMEOUT  seconds a worker has to finish its request on a restart (30)
  GUNICORN_MAX_REQUESTS   requests after which a worker is replaced, so that no slow growth
                          of memory lasts (default 2000, with a random jitter of up to 10 %)

Workers are sync: each takes one request at a time, so a photo being decoded uses one
worker's memory and CPU and never starves another request of the same process. They
rely on nginx buffering a phone's slow upload whole before passing it on (it does by
default; deploy/nginx.conf), so a worker never waits on a bad mobile network. (A sync
worker closes each connection after its answer: nginx opens a new one per request, which
on loopback or a LAN costs well under a millisecond.)

Graceful restarts: `kill -HUP <master>` starts new workers on the new code and lets the
old ones finish their requests; `kill -TERM` stops after the requests in flight.

The access log is gunicorn's, one JSON line per request on stderr, with the request id
the app sends back in X-Request-ID (the same id as the app's own log lines of that
request): so the app's own access line is turned off here (LOG_ACCESS=false).
"""
import json
import multiprocessing
import os
from datetime import UTC, datetime

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10
# Not preloaded: each worker imports the app, and so opens its own database connections,
# after the fork (a pool shared across a fork would mix two processes' conversations).
preload_app = False
# Only the proxy on this machine may say the original scheme was https (X-Forwarded-Proto);
# the app's PROXY_HOPS decides which X-Forwarded-For address is the client's.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
raw_env = ["LOG_ACCESS=false"]


class JsonAccessLogger(Logger):
    """gunicorn's logger, with each access line written as one JSON object (json.dumps
    escapes what a client sends, so a quote in a user agent cannot break the line)."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = dict(resp.headers)  # gunicorn keeps them as a list of pairs
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "request_id": next((v for k, v in headers.items() if k.lower() == "x-request-id"), None),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(str(resp.status).split(None, 1)[0]),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "bytes": getattr(resp, "sent", None),
            "remote": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        self.access_log.info(json.dumps(line, ensure_ascii=False))


logger_class = JsonAccessLogger
