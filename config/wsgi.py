"""WSGI entry point (gunicorn config.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018  (imports every view now, for the freeze)

# The cyclic garbage collector, tuned for a process whose heap is mostly long-lived:
# the application, and the warm books, which grow with every resting order. With
# the defaults (700, 10, 10), a worker under 100-order batches ran a full collection
# every second or two, of 45-90 ms, often while it held an instrument's lock (py-spy
# put the pauses on allocations, gc.callbacks timed them). What is loaded by now is
# frozen out of every collection; young collections run every 10,000 allocations,
# and full ones after 100 older ones. Side by side in bench_api: 100-order batches
# 10-20% more orders/s, single orders a few per cent (README, Performance).
gc.freeze()
gc.set_threshold(10_000, 10, 100)
