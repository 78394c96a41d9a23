"""gunicorn settings shared by the container image and `make stack`; every knob from the env."""
import os

wsgi_app = "portal.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# 2 x cores + 1 is gunicorn's rule of thumb; scale out with more replicas rather than more workers.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Uploads of scanned records are slow on mobile networks; nginx buffers them first, so the
# worker only waits on the database and S3.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never takes a replica down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The proxy's X-Forwarded-Proto is trusted only from these addresses (the compose network / loopback).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No gunicorn access log: it would print query strings (the public lookup takes an ID number).
# portal.middleware.RequestIdMiddleware writes a JSON access line without them instead.
accesslog = None
errorlog = "-"
# No control socket: several stacks (a developer's and a smoke test's) must not share one path.
control_socket_disable = True
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
