"""Shared test set-up.

- Hypothesis profiles: `ci` (no deadline, more examples) when CI=true, else `dev`.
- On PostgreSQL, deferred constraints are checked at once inside the test transaction
  (which never commits), so constraint tests see them.
- Tests marked `postgres` or `browser` skip with a reason where the service is missing;
  under CI=true a skip is a failure, because CI has everything.
- The reference catalogue is loaded once into the test database.
- `admin_client` (pytest-django's) has also passed the staff's second factor
  (tests/otp.py), as the admin requires.
"""

import os
import shutil

import pytest
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, settings

from tests.otp import login_verified

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

settings.register_profile(
    "ci", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    if item.get_closest_marker("browser") and not shutil.which("chromium"):
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    if item.get_closest_marker("redis") and not _redis_answers():
        pytest.skip("needs Redis at 127.0.0.1:6379")


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI, where every service exists: {report.longrepr}"
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_catalogue", verbosity=0)


@pytest.fixture(autouse=True)
def _immediate_constraints(request):
    if "django_db" not in {m.name for m in request.node.iter_markers()}:
        return
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's superuser client, verified by a TOTP device."""
    return login_verified(client, admin_user)


@pytest.fixture
def catalogue(db):
    """The reference catalogue and its first published tables (reloaded after a
    transactional test flushed them)."""
    call_command("load_catalogue", verbosity=0)


@pytest.fixture(autouse=True)
def _cold_books():
    """Warm books live per process; a test must not see another test's."""
    from exchange import books

    books.clear()
    yield
    books.clear()
