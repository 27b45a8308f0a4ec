"""Test settings: the environment's database (SQLite by default, PostgreSQL in CI),
fast password hashing, eager Celery unless a test starts real workers."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")
# Tests (and the servers they start, which inherit the environment) speak plain http.
os.environ.setdefault("DJANGO_HTTPS", "false")

from config.settings import *  # noqa: F403
from config.settings import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
if not env.str("REDIS_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files are not served in tests; skip WhiteNoise's scan of STATIC_ROOT.
MIDDLEWARE = [m for m in MIDDLEWARE if "whitenoise" not in m]  # noqa: F405
# Tests make many requests from one client IP within a second; the throttle tests set
# low rates with override_settings.
EXCHANGE_API_THROTTLE_RATE = "100000/s"
EXCHANGE_API_LOGIN_THROTTLE_RATE = "100000/m"
# Metrics of a test run go to a folder of its own (shared with the servers and
# workers it starts, which inherit the variable), not the demo's var/.
if not os.environ.get("YIWANG_TEST_METRICS_DIR"):
    os.environ["YIWANG_TEST_METRICS_DIR"] = tempfile.mkdtemp(prefix="yiwang-metrics-")
PROMETHEUS_MULTIPROC_DIR = Path(os.environ["YIWANG_TEST_METRICS_DIR"])
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
