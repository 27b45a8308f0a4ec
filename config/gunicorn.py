"""gunicorn's configuration for the web process; every invocation takes it:

    gunicorn config.wsgi -c config/gunicorn.py [--workers 2 --threads 8 ...]

Its hook tunes each worker's cyclic garbage collector once the application is
loaded (settings.WEB_GC_TUNING, environment GUNICORN_GC_TUNING, switches it off).
Why and how it was measured: docs/performance.md, "Garbage collector".
"""

import gc

# Young collections every this many allocations, and full ones after this many older
# ones: a worker's heap is mostly long-lived (the application, the warm books).
GC_THRESHOLDS = (10_000, 10, 100)


def post_worker_init(worker) -> None:
    """Freeze what the worker has loaded, views included, out of every collection, and
    collect less often, so that a full collection no longer lands inside an
    instrument's lock while the warm books grow."""
    from django.conf import settings
    from django.urls import get_resolver

    if not settings.WEB_GC_TUNING:
        return
    get_resolver().url_patterns  # noqa: B018  (imports every view, to freeze them too)
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
