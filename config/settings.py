"""Settings, read from the environment (12-factor) with embedded defaults for the demo.

With no DATABASE_URL the project runs on a SQLite file (WAL, IMMEDIATE transactions);
with no CELERY_BROKER_URL Celery uses kombu's filesystem transport under var/, so
`make run` needs no server. CI and production point both at PostgreSQL and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("YIWANG_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it, or set DJANGO_DEBUG=true for a "
            "development key."
        )
    from django.core.management.utils import get_random_secret_key

    # One key for every process of the demo (gunicorn workers, Celery), kept under var/.
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(get_random_secret_key())
    SECRET_KEY = _key_file.read_text().strip()

# The demo of `make run`, never a deployment: web deposit requests are approved at
# once, `seed_demo` may plant its participants (a superuser with a known password,
# 5M CNY deposits), and `verify_cluster` defaults to the demo's operator. Apart from
# DEBUG on purpose: turning on debugging must not turn a database into a demo.
YIWANG_DEMO = env.bool("YIWANG_DEMO", default=False)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS (`manage.py check --deploy` has nothing to say) ---------------------------
# Outside DEBUG the site is assumed to be served over HTTPS: plain http is redirected,
# cookies are sent only over TLS, and browsers are told to use nothing else (HSTS).
# A server run with DEBUG off over plain http on loopback (benchmarks, the soak, CI's
# schemathesis run, tests) sets DJANGO_HTTPS=false. Behind a TLS-terminating proxy
# that sets X-Forwarded-Proto (and strips a client's own), set
# DJANGO_SECURE_PROXY_SSL_HEADER=true, or the redirect loops.
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain http
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=HTTPS * 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_SUBDOMAINS", default=HTTPS
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=HTTPS)
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "config.apps.ConfigConfig",
    "market",
    "settlement",
    "exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RejectNulMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.StaffSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a login it refused into a 429 (market/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "market.web.context.suspended_regions",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------
SQLITE_PATH = Path(env.str("YIWANG_SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")))
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
                # busy timeout instead of failing with "database is locked" mid-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttles, heartbeat): shared by every process of the deployment ------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",  # one redis-py client per pool
            "LOCATION": REDIS_URL,
            # A Redis that is down or unreachable costs a request this long at most,
            # not a hang: the throttles then fail open, /healthz answers 503.
            "OPTIONS": {
                "socket_connect_timeout": env.float(
                    "REDIS_CONNECT_TIMEOUT", default=0.5
                ),
                "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=1.0),
            },
        }
    }
else:
    # File-based so that web, worker and beat of `make run` see the same values.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out login before the password is even checked.
# It needs the request, so an authenticate() without one (no such call in the
# project) fails loudly instead of skipping the lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout (market/lockout.py): FAILURE_LIMIT failed logins for a username,
# or from a client IP, lock further attempts for COOLOFF minutes after the last
# failure; counted in the database so it holds without Redis.
AXES_FAILURE_LIMIT = env.int("YIWANG_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(
    minutes=env.int("YIWANG_LOGIN_COOLOFF_MINUTES", default=15)
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not extend it: it ends when the window has passed.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "market.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "market.lockout.client_ip"
AXES_VERBOSE = False
# Not axes' own admin: its unlock action has no permission of its own and writes no
# audit row, which every operator power here must (market/audit.py). A lockout ends
# by itself after the cool-off.
AXES_ENABLE_ADMIN = False
LOGIN_URL = "login"
# Staff reach the admin only after a TOTP code in the same session (django-otp,
# config/middleware.py); their sessions also end sooner (config/apps.py). Seconds.
STAFF_SESSION_AGE = env.int("YIWANG_STAFF_SESSION_AGE", default=3600)
OTP_TOTP_ISSUER = "Yiwang"  # the name an authenticator app shows beside the code
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Password-reset mail goes through EMAIL_URL (django-environ's form, e.g.
# smtp+tls://user:password@mail.example.com:587); unset, a local SMTP relay, or the
# console in the demo and with DEBUG (check --deploy refuses the console).
_mail = env.email_url(
    "EMAIL_URL",
    default="consolemail://" if DEBUG or YIWANG_DEMO else "smtp://localhost:25",
)
_smtp_options = {
    "host": _mail["EMAIL_HOST"],
    "port": _mail["EMAIL_PORT"],
    "username": _mail["EMAIL_HOST_USER"],
    "password": _mail["EMAIL_HOST_PASSWORD"],
    "use_tls": _mail.get("EMAIL_USE_TLS", False),
    "use_ssl": _mail.get("EMAIL_USE_SSL", False),
}
MAILERS = {
    "default": {
        "BACKEND": _mail["EMAIL_BACKEND"],
        "OPTIONS": _smtp_options
        if _mail["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Yiwang <noreply@localhost>")

# --- Internationalization ---------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- REST framework ---------------------------------------------------------------
REST_FRAMEWORK = {
    # The API's only authentication: `Authorization: Token <key>` (market/api/auth.py).
    "DEFAULT_AUTHENTICATION_CLASSES": ["market.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [
        "market.api.throttles.RejectNul",  # see config/middleware.py
        "market.api.throttles.ApiKeyRateThrottle",
    ],
    # Proxies in front of gunicorn that append to X-Forwarded-For; 0 trusts none, so
    # a client cannot pick its own IP to escape the anonymous throttle.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "market.api.query.StrictFormatNegotiation",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "market.api.pagination.LimitOffsetPagination",
    "EXCEPTION_HANDLER": "market.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yiwang compute exchange API",
    # Swagger UI from our own static files (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": (
        "REST API v1 of the Yiwang compute exchange. Decimals are strings; errors use "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "market.api.schema.bodies_required",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChipKindEnum": "market.models.ChipModel.Kind",
        "SideEnum": "exchange.models.Order.Side",
        "OrderStatusEnum": "exchange.models.Order.Status",
        "DeliveryStatusEnum": "settlement.models.Obligation.Status",
    },
}

# --- Celery -----------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    # Redis redelivers an unacknowledged message of a lost worker only after this.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Tests widen the window in which a worker can be killed mid-batch.
SETTLEMENT_BATCH_PAUSE_MS = env.int("SETTLEMENT_BATCH_PAUSE_MS", default=0)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
HEARTBEAT_MAX_AGE_SECONDS = 30

# --- Exchange ---------------------------------------------------------------------
EXCHANGE_LIST_DAYS_AHEAD = env.int("EXCHANGE_LIST_DAYS_AHEAD", default=3)
# Short delivery windows (drills, demos, `make soak`): with minutes set, the scheduled
# job lists each profile's next WINDOWS_AHEAD windows of that length instead of days
# (0: days). A divisor of 1440 tiles the Shanghai day. PROFILES empty: every profile.
EXCHANGE_LISTING_WINDOW_MINUTES = env.int("EXCHANGE_LISTING_WINDOW_MINUTES", default=0)
EXCHANGE_LISTING_WINDOWS_AHEAD = env.int("EXCHANGE_LISTING_WINDOWS_AHEAD", default=2)
EXCHANGE_LISTING_PROFILES = env.list("EXCHANGE_LISTING_PROFILES", default=[])
# Blocks (DESIGN.md, "Products in time"): beside each day, the profiles listed here
# also get the day's blocks of this many hours (a divisor of 24; 0: none). A
# profile's listing plan in admin overrides both.
EXCHANGE_LISTING_BLOCK_HOURS = env.int("EXCHANGE_LISTING_BLOCK_HOURS", default=4)
EXCHANGE_LISTING_BLOCK_PROFILES = env.list(
    "EXCHANGE_LISTING_BLOCK_PROFILES", default=["train", "infer"]
)
# The advisor: how fast a job's data reaches a remote region before its window
# starts (a dedicated line's throughput, Gbit/s); a job whose data would arrive
# after the window opens cannot run there.
EXCHANGE_ADVISOR_TRANSFER_GBIT_S = env.str(
    "EXCHANGE_ADVISOR_TRANSFER_GBIT_S", default="10"
)
# GET /internal/book/<symbol>/ (this process's warm book, for `make soak`) answers
# only requests that carry this token; unset, the endpoint is a 404.
INTERNAL_TOKEN = env.str("INTERNAL_TOKEN", default="")
# Opening prices (CNY per SCU-h) of a profile's first listing, before any trade gives
# one: near market rents (an A100-hour at 8 to 12 CNY, see shared/refdata/README.md).
EXCHANGE_OPENING_PRICES = env.dict(
    "EXCHANGE_OPENING_PRICES",
    default={
        "train": "10.00",
        "infer": "9.00",
        "hpc": "12.00",
        "render": "7.00",
        "cpu": "0.60",
    },
)
EXCHANGE_API_THROTTLE_RATE = env.str("EXCHANGE_API_THROTTLE_RATE", default="50/s")
# Creating API keys with a username and password: per client IP, much stricter.
EXCHANGE_API_LOGIN_THROTTLE_RATE = env.str(
    "EXCHANGE_API_LOGIN_THROTTLE_RATE", default="10/m"
)
# Live (not revoked, not expired) API keys a participant may hold (market/apikeys.py).
EXCHANGE_API_MAX_LIVE_KEYS = env.int("EXCHANGE_API_MAX_LIVE_KEYS", default=20)
# Serves the hidden benchmark-only endpoint (tests/bench/bench_api.py); never in prod.
EXCHANGE_API_BENCHMARK = env.bool("EXCHANGE_API_BENCHMARK", default=False)

# --- Streams (exchange/streams/; docs/performance.md, "Streams") -------------------
# Where pages and clients find the streams process (uvicorn, config/asgi.py). Empty:
# this host, where a proxy routes /api/v1/stream/ to it; set, the WSGI server answers
# stream requests with a redirect there (`make run` sets it to its second port).
EXCHANGE_STREAMS_URL = env.str("EXCHANGE_STREAMS_URL", default="")
# Content-Security-Policy (Django's own middleware): scripts only from our own
# files (static/js/site.js replaces inline handlers and htmx's eval'd trigger
# filters; Swagger UI comes from drf-spectacular-sidecar with its split view), never
# inline or eval'd, so an injected <script> does not run. Styles may be inline: colour
# swatches carry style attributes from data, and htmx, the chart library and Swagger
# UI insert <style> elements; a style cannot run code. The live pages' streams may
# also come from the streams process's origin, which config.middleware adds to
# connect-src at each response (EXCHANGE_STREAMS_URL).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Open streams per participant (anonymous market streams: per client address).
EXCHANGE_STREAMS_PER_PARTICIPANT = env.int(
    "EXCHANGE_STREAMS_PER_PARTICIPANT", default=5
)
# Batches a connection may have waiting; a client that falls further behind is
# dropped and resumes with Last-Event-ID.
EXCHANGE_STREAMS_QUEUE = env.int("EXCHANGE_STREAMS_QUEUE", default=256)
# How often the poller reads the event log: without Redis, the latency of the
# streams; with it (pub/sub wakes the poller), only a safety net.
EXCHANGE_STREAMS_POLL_SECONDS = env.float("EXCHANGE_STREAMS_POLL_SECONDS", default=0.2)
EXCHANGE_STREAMS_SAFETY_POLL_SECONDS = 2.0
EXCHANGE_STREAMS_HEARTBEAT_SECONDS = env.float(
    "EXCHANGE_STREAMS_HEARTBEAT_SECONDS", default=15
)
# Each instrument's recent events kept for resuming clients; a feed replays a log
# of up to REPLAY_LIMIT events in full, longer ones start from the open orders.
EXCHANGE_STREAMS_RING = env.int("EXCHANGE_STREAMS_RING", default=20000)
EXCHANGE_STREAMS_REPLAY_LIMIT = env.int("EXCHANGE_STREAMS_REPLAY_LIMIT", default=20000)
EXCHANGE_STREAMS_CHUNK = 5000
EXCHANGE_STREAMS_CLOSED_MARGIN_SECONDS = 600
EXCHANGE_STREAMS_PRIVATE_MAX_AGE_SECONDS = 86400
# Deliveries and settlements reach the private stream this late: their rows carry
# times stamped inside transactions that may still be committing.
EXCHANGE_STREAMS_SETTLEMENT_LAG_SECONDS = 2
# Redis pub/sub channel (empty: named after the database, as channels are global).
EXCHANGE_STREAMS_CHANNEL = env.str("EXCHANGE_STREAMS_CHANNEL", default="")

# --- Notifications (market/notifications/, docs/notifications.md) -----------------
# E-mail goes where EMAIL_URL says (the console in the demo; see above).
# A webhook attempt that fails is retried after BASE x 2^(n-1) seconds (capped at an
# hour), up to MAX_ATTEMPTS attempts in all.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int(
    "NOTIFICATIONS_RETRY_BASE_SECONDS", default=10
)
NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS = 5
# The sweep re-enqueues a pending delivery only this long after its attempt was due.
NOTIFICATIONS_SWEEP_GRACE_SECONDS = 60
# How often a process re-reads who has notifications on (after-commit collection).
NOTIFICATIONS_SUBSCRIBERS_TTL_SECONDS = 2.0
# Webhooks to loopback addresses: tests only (a receiver thread on 127.0.0.1).
NOTIFICATIONS_ALLOW_LOOPBACK = False

# --- Operators (admin) ------------------------------------------------------------
# A deposit request above this many CNY is approved only by a second operator
# (four-eyes); at or below it, one operator with the permission approves it.
SETTLEMENT_FOUR_EYES_DEPOSIT_CNY = env.str(
    "SETTLEMENT_FOUR_EYES_DEPOSIT_CNY", default="100000"
)

# --- Web process (config/gunicorn.py) ---------------------------------------------
# Each gunicorn worker freezes the loaded application out of the garbage collector and
# collects less often; false keeps Python's defaults (to compare, or to debug leaks).
WEB_GC_TUNING = env.bool("GUNICORN_GC_TUNING", default=True)

# --- Metrics (/metrics) ---------------------------------------------------------
# prometheus-client keeps each process's counters in files here and a scrape sums
# them (multiprocess mode: gunicorn workers, Celery). The library picks the mode from
# this variable when its first metric is built, which is after settings load; empty
# the folder before starting the processes, as its documentation asks.
PROMETHEUS_MULTIPROC_DIR = Path(
    env.str("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "prometheus"))
)
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# Who may scrape /metrics (it names queue depths and order flow): a request carrying
# `Authorization: Bearer <METRICS_TOKEN>` (when set), or one from an address or
# network listed here (loopback only by default: a scraper on the same host).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
