"""Gunicorn settings for the portal; started by deploy/systemd/mpassid-web.service.

TLS ends at the reverse proxy on this host (deploy/nginx.conf.example), which forwards to
127.0.0.1:8000 and sets X-Forwarded-Proto, X-Forwarded-For and X-Real-IP.
"""

import os

wsgi_app = "portal.wsgi:application"
bind = "127.0.0.1:8000"
# gunicorn 23 always answers with "Server: gunicorn" and has no setting to leave it out; only
# nginx hears it, and drops it (proxy_hide_header Server in nginx.conf.example).
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 30

# Logs go to the journal: access log on stdout, errors on stderr. The client address is the one
# the proxy saw (X-Real-IP); gunicorn's own %(h)s would always be 127.0.0.1.
accesslog = "-"
errorlog = "-"
access_log_format = '%({x-real-ip}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s'

# Trust X-Forwarded-Proto etc. only from the local proxy.
forwarded_allow_ips = "127.0.0.1,::1"

# Gunicorn >= 25.1 opens a control socket under $HOME by default; the service user has no home
# and systemd reloads with SIGHUP instead. (Older gunicorn ignores this setting.)
control_socket_disable = True


def on_starting(server):
    """Read the settings once in the master, before it binds the port or starts a worker.

    A missing required value makes portal/settings.py exit with its one-line "Configuration
    error: ..." message; raised here, it stops gunicorn itself (exit status 1) instead of
    workers that crash and respawn in a loop behind an open port. The settings run as a
    file, not imported, so the workers still import them afresh (as after a reload).
    """
    import runpy
    from pathlib import Path

    runpy.run_path(str(Path(__file__).resolve().parent.parent / "portal" / "settings.py"))
