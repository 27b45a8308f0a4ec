"""Browser tests: pytest-playwright driving Debian's chromium (never a downloaded one)
against pytest-django's live server. Screenshots go to tests/artifacts/ (git-ignored).

Playwright's sync API runs an event loop in the test thread, so Django would take every
ORM call for one made from async code; DJANGO_ALLOW_ASYNC_UNSAFE turns that check off
for this process (tests only).
"""

import os
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def site(live_server, catalogue):
    """The live server's URL, with the catalogue (and published tables) in its DB."""
    return live_server.url
