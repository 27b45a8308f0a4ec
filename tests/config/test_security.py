"""A hardened deployment: with DEBUG off, `manage.py check --deploy` has nothing to
say (HTTPS redirect, HSTS, secure cookies come on by default), while `make run`'s
DEBUG demo on plain http keeps them off; every page carries a Content-Security-Policy
that allows no inline or eval'd script, and the templates have none; the API docs
load Swagger UI from our own static files, never a CDN."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k" * 20 + "Zq8#Lw2!mR5@tY7$uP0&sV3*xB6^nD9(fH1)jK4"  # 60 characters, varied


def run_settings(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "YIWANG_DEMO"))
    }
    base |= {"DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(
        [sys.executable, *code.split()]
        if code.startswith("manage.py")
        else [sys.executable, "-c", code],
        env=base,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_has_no_warning_with_debug_off():
    done = run_settings(
        "manage.py check --deploy", DJANGO_DEBUG="false", DJANGO_SECRET_KEY=SECRET
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout, done.stdout + done.stderr
    assert "WARNINGS" not in done.stdout + done.stderr


PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_HSTS_SECONDS)"
)


def test_https_settings_are_off_in_the_debug_demo_and_on_request():
    demo = run_settings(PROBE, DJANGO_DEBUG="true")
    assert demo.stdout.split() == ["False", "False", "False", "0"], demo.stderr
    plain = run_settings(
        PROBE, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=SECRET, DJANGO_HTTPS="false"
    )
    assert plain.stdout.split() == ["False", "False", "False", "0"], plain.stderr
    prod = run_settings(PROBE, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=SECRET)
    assert prod.stdout.split() == ["True", "True", "True", "31536000"], prod.stderr


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_but_healthz_is_not():
    client = Client()
    response = client.get("/catalogue/chips/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/catalogue/chips/"
    assert client.get("/healthz").status_code in (200, 503)


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_script():
    response = Client().get("/catalogue/chips/")
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1)
        for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert "unsafe" not in policy["script-src"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>")
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
EVAL_TRIGGER = re.compile(r'hx-trigger="[^"]*\[')  # htmx evaluates [filters]


def test_templates_have_no_inline_script_or_handler():
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        body = path.read_text()
        for pattern in (INLINE_SCRIPT, HANDLER, EVAL_TRIGGER):
            found += [
                f"{path.relative_to(ROOT)}: {m[0]}" for m in pattern.finditer(body)
            ]
    assert found == []


@pytest.mark.django_db
def test_api_docs_load_swagger_ui_from_our_static_files():
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "cdn" not in body.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert any("drf_spectacular_sidecar/swagger-ui-dist" in a for a in assets)
    assert all(a.startswith("/") for a in assets), assets
    script = [a for a in assets if "script=" in a]
    assert script, "the start-up script is a file (split view), not inline"
    js = client.get(script[0].replace("&amp;", "&"))
    assert js.status_code == 200
    assert js["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in js.content.decode()


@pytest.mark.django_db
def test_csp_lets_pages_reach_the_streams_process(settings):
    """The live pages' Server-Sent Events come from the streams process's origin,
    read per response, so a moved streams process is allowed at once."""
    settings.EXCHANGE_STREAMS_URL = "http://127.0.0.1:8101/"
    policy = Client().get("/catalogue/chips/")["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:8101;" in policy + ";"
    settings.EXCHANGE_STREAMS_URL = ""
    policy = Client().get("/catalogue/chips/")["Content-Security-Policy"]
    assert "connect-src 'self';" in policy + ";"
