"""Production settings (from the environment, DEBUG off) with the benchmark's URLconf, which
adds a minimal view beside the portal's pages, and static files collected to a folder of the
benchmark's own. Used only by the gunicorn that `bench.public_pages` starts."""

import os

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)  # noqa: F405
