"""Settings, all from the environment, with embedded defaults (SQLite, file cache, filesystem broker)."""

import re
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from bots.exchanges.registry import exchange_classes, exchange_names
from config.env import env, read, redis_cache, secret_key, session_limits

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(read("VAR_DIR", env.str, str(BASE_DIR / "var")))

# Off unless DEBUG=true: `make run` serves as production does (`make dev` turns it on).
DEBUG = read("DEBUG", env.bool, False)
SECRET_KEY = secret_key("SECRET_KEY", VAR_DIR)
ALLOWED_HOSTS = read("ALLOWED_HOSTS", env.list, ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = read("CSRF_TRUSTED_ORIGINS", env.list, [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_htmx",
    # Login throttling: failed logins by username and address, in its own tables.
    "axes",
    "strategies_app",
    "sessions_app",
]

MIDDLEWARE = [
    # First: every answer, redirects included, carries X-Request-ID.
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last, as axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASE_URL = read("DATABASE_URL", env.str, f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
except Exception as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed ({DATABASE_URL!r}): {exc}") from exc
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write concurrently: WAL lets readers go on, IMMEDIATE avoids
    # "database is locked" on upgrade from read to write, the timeout waits out a writer.
    _db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _db["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
elif _db["ENGINE"] in ("django.db.backends.mysql",):
    # connect_timeout: a database that is down answers "unavailable" (503) within seconds.
    # No index-merge intersection: on the low-cardinality status and type columns, InnoDB's
    # sampled statistics (after a bulk load, before any ANALYZE) made MariaDB intersect
    # idx_status and idx_type and sort the result (130 ms for a page) instead of reading one
    # (filter, created_at, id) index in order (under 2 ms).
    _db.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "isolation_level": "read committed",
            "connect_timeout": 3,
            "init_command": "SET SESSION optimizer_switch='index_merge_intersection=off'",
        }
    )
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker ---------------------------------------------------------------------
REDIS_URL = read("REDIS_URL", env.str, "")
# Whichever cache is on Redis: its errors are ignored (a miss) and logged, throttled.
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "sessions_app.cache"
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL, read("CACHE_PREFIX", env.str, "tp"))}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = read("CELERY_BROKER_URL", env.str, REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(read("CELERY_BROKER_DIR", env.str, str(VAR_DIR / "broker")))
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # The filesystem transport polls; 0.1 s keeps "start" to "running" snappy.
        "polling_interval": 0.1,
    }
else:
    # A key prefix keeps several installations (or a test run) apart on one Redis. Short
    # socket timeouts: a start with the broker down is refused in about a second.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "global_keyprefix": read("CELERY_BROKER_PREFIX", env.str, ""),
        "socket_connect_timeout": 1.0,
        "socket_timeout": 5.0,
    }
# A publish with the broker down fails fast (a start answers 503, the session stays created):
# two quick retries, never the default's open-ended connection retries in the web process.
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# A worker that lost its broker keeps its running sessions and reconnects for ever.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False  # early ack: a long session is never redelivered mid-run
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# One queue per session type: a long test session never waits behind backtests.
# Housekeeping (reaper, retention, webhooks) runs on `default`.
CELERY_TASK_ROUTES = {
    "sessions.reap": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    "sessions.retention": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    "sessions.notify": {"queue": CELERY_TASK_DEFAULT_QUEUE},
}
CELERY_BEAT_SCHEDULE = {
    "reap-stale-sessions": {"task": "sessions.reap", "schedule": 10.0},
}

# --- The product --------------------------------------------------------------------------
DATA_ROOT = Path(read("DATA_ROOT", env.str, str(VAR_DIR / "data")))
SESSION_LIMITS = session_limits("SESSION_LIMITS", "test=3,backtest=1,scraper=5")
EXCHANGES = exchange_names()  # the registry's (bots.exchanges.registry), in its order
DEFAULT_EXCHANGE = read("DEFAULT_EXCHANGE", env.str, "sim")
if DEFAULT_EXCHANGE not in EXCHANGES:
    raise ImproperlyConfigured(
        f"DEFAULT_EXCHANGE is malformed ({DEFAULT_EXCHANGE!r}): one of {', '.join(EXCHANGES)}"
    )
STALE_AFTER_SECONDS = read("STALE_AFTER_SECONDS", env.int, 30)
# A live session whose worker died (stale heartbeat, restarted node) is resumed from its
# checkpoint by another worker; false keeps "failed: worker lost".
RESUME_LOST_SESSIONS = read("RESUME_LOST_SESSIONS", env.bool, True)
# A session lost this many times in a row is failed at the next loss instead of resumed.
MAX_RESUMES = read("MAX_RESUMES", env.int, 3)
# The most candles one run may load (range / timeframe, per market leg): a 400 naming range_end.
MAX_RUN_CANDLES = read("MAX_RUN_CANDLES", env.int, 50_000_000)
# A live runner keeps its trades, events and heartbeats in memory for as long as the database
# is down; its writes that must land (a backtest's trades, the final status) wait this long
# for it, then raise (the session is failed, or lost and resumed, once it is back).
DB_OUTAGE_SECONDS = read("DB_OUTAGE_SECONDS", env.int, 120)
PICKUP_TIMEOUT_SECONDS = read("PICKUP_TIMEOUT_SECONDS", env.int, 120)
# A sweep with more runs to compute than this asks one more worker process per this many runs
# to share it (each takes this many at a time, computed in one grid, until none is left). 10:
# a 100-run sweep of 30 days asks every process of a small pool without flooding the queue
# with empty chunks, and a grid of a year's runs still ends in a second or two.
SWEEP_CHUNK_RUNS = read("SWEEP_CHUNK_RUNS", env.int, 10)
if SWEEP_CHUNK_RUNS < 1:
    raise ImproperlyConfigured(f"SWEEP_CHUNK_RUNS is malformed ({SWEEP_CHUNK_RUNS!r}): 1 or more")
STRATEGY_PACKAGES = read("STRATEGY_PACKAGES", env.list, [])
# Finished sessions older than this many days go to cold storage daily (unset: never).
RETENTION_DAYS = read("RETENTION_DAYS", env.int, None)
if RETENTION_DAYS is not None and RETENTION_DAYS < 1:
    raise ImproperlyConfigured(
        f"RETENTION_DAYS is malformed ({RETENTION_DAYS!r}): a number of days, 1 or more"
    )
if RETENTION_DAYS:
    CELERY_BEAT_SCHEDULE["retention"] = {"task": "sessions.retention", "schedule": 86400.0}
# Webhooks when a session ends: every URL here, plus each session's own notify_url.
WEBHOOK_URLS = read("WEBHOOK_URLS", env.list, [])
WEBHOOK_SECRET = read("WEBHOOK_SECRET", env.str, "")
WEBHOOK_TRIES = read("WEBHOOK_TRIES", env.int, 5)
# Backoff between tries: this many seconds, doubled after each failure.
WEBHOOK_RETRY_SECONDS = read("WEBHOOK_RETRY_SECONDS", env.float, 10.0)
WEBHOOK_TIMEOUT_SECONDS = read("WEBHOOK_TIMEOUT_SECONDS", env.float, 10.0)
# Webhook targets that are or resolve to loopback, private, link-local, multicast or reserved
# addresses are refused (at save and at delivery) unless this is on: a receiver inside the network.
WEBHOOK_ALLOW_PRIVATE = read("WEBHOOK_ALLOW_PRIVATE", env.bool, False)
# Exchange API base URLs by exchange, each read from the setting its class names (BITMEX_URL,
# BINANCE_URL); empty: the exchange's own. Tests point them at a local server with recorded answers.
EXCHANGE_URLS = {
    name: read(cls.url_setting, env.str, "")
    for name, cls in exchange_classes().items()
    if cls.url_setting is not None
}

# --- Auth ---------------------------------------------------------------------------------
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes in front of the model backend: the dashboard's and the admin's logins (both call
# authenticate() with the request) count failures by username and address together, so a
# guesser locks only that pair out, never the user everywhere nor everyone behind one address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = read("LOGIN_FAILURE_LIMIT", env.int, 5)
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured(f"LOGIN_FAILURE_LIMIT is malformed ({AXES_FAILURE_LIMIT!r}): 1 or more")
AXES_COOLOFF_TIME = timedelta(minutes=read("LOGIN_LOCKOUT_MINUTES", env.int, 15))
if AXES_COOLOFF_TIME <= timedelta(0):
    raise ImproperlyConfigured("LOGIN_LOCKOUT_MINUTES is malformed: a number of minutes, 1 or more")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a user who mistyped four times and then got in starts again at 0
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"  # 429, with the dashboard's look
AXES_CLIENT_IP_CALLABLE = "config.security.client_address"
# The lockout lines in the log name the username and the address (axes masks both by default);
# the password is always masked, and the CSRF token is no one's business.
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken"]
AXES_VERBOSE = False  # no banner on every start; failures and lockouts are still logged (warnings)

# API throttles (sessions_app/api/throttling.py). Wrong tokens: past this many from one client
# address in a window, its wrong tokens answer 429 (Retry-After: the window's end), not 401.
API_TOKEN_FAILURE_LIMIT = read("API_TOKEN_FAILURE_LIMIT", env.int, 10)
API_TOKEN_FAILURE_WINDOW = read("API_TOKEN_FAILURE_WINDOW", env.int, 60)
if API_TOKEN_FAILURE_LIMIT < 1 or API_TOKEN_FAILURE_WINDOW < 1:
    raise ImproperlyConfigured(
        "API_TOKEN_FAILURE_LIMIT and API_TOKEN_FAILURE_WINDOW are malformed "
        f"({API_TOKEN_FAILURE_LIMIT!r}, {API_TOKEN_FAILURE_WINDOW!r}): 1 or more"
    )
# Requests per authenticated user: a safety net against a runaway script, far above what the
# dashboard, the test suite or 50 clients sharing one token at 250 requests/s ask.
API_THROTTLE_RATE = read("API_THROTTLE_RATE", env.str, "60000/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"API_THROTTLE_RATE is malformed ({API_THROTTLE_RATE!r}): requests per period, e.g. 60000/min"
    )
# The throttles' counters: on Redis when there is one (shared by every process and machine), else
# in each process's memory, not in the file cache (a file written per API request).
if REDIS_URL:
    CACHES["throttle"] = CACHES["default"]
else:
    CACHES["throttle"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "throttle",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes anonymous API calls a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sessions_app.api.throttling.CountingTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["sessions_app.api.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": API_THROTTLE_RATE},
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with nesting bounded (a 400, not a RecursionError's 500); forms as DRF's.
    "DEFAULT_PARSER_CLASSES": [
        "sessions_app.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "sessions_app.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "sessions_app.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `format` is ours (trades?format=csv), not DRF's renderer switch.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Trading sessions API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "DESCRIPTION": (
        "Every answer is JSON with `success`; refusals add `error` (one sentence) and `errors` "
        "(field -> messages). A method a path does not take answers 405, an unknown path 404 and "
        "a server fault 500 (with `request_id`), in the same shape."
    ),
    # Sessions and strategies share the set of session types: one enum component, one name.
    "ENUM_NAME_OVERRIDES": {"SessionTypeEnum": "sessions_app.api.serializers.SESSION_TYPES"},
    # The values are their own labels; listing them again in each description is noise.
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
}

# --- I18n, static -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = Path(read("STATIC_ROOT", env.str, str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it
# lightweight-charts comes from npm (bin/setup runs `npm ci`): its built files are served from
# node_modules under static/vendor/, never committed.
CHART_LIBRARY_DIR = BASE_DIR / "node_modules" / "lightweight-charts" / "dist"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/lightweight-charts", CHART_LIBRARY_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# HTTPS by default when DEBUG is off (`check --deploy` is clean); each one can be turned off
# from the environment, as bin/run does for plain HTTP on 127.0.0.1.
# BEHIND_PROXY=true: a TLS-terminating proxy in front sets X-Forwarded-Proto (and strips a
# client's own) and appends the client's address to X-Forwarded-For. Without one, both headers
# are whatever the client wrote: a plain-HTTP request saying "https" would pass for secure,
# and a guesser could pick a fresh address for every login or token it tries.
BEHIND_PROXY = read("BEHIND_PROXY", env.bool, False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Every script and style is one of our static files (htmx, dashboard.js, charts.js,
# lightweight-charts, dashboard.css): no inline code, no style attributes, no eval, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
SECURE_SSL_REDIRECT = read("SECURE_SSL_REDIRECT", env.bool, not DEBUG)
SESSION_COOKIE_SECURE = read("SESSION_COOKIE_SECURE", env.bool, not DEBUG)
CSRF_COOKIE_SECURE = read("CSRF_COOKIE_SECURE", env.bool, not DEBUG)
SECURE_HSTS_SECONDS = read("SECURE_HSTS_SECONDS", env.int, 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = read("SECURE_HSTS_INCLUDE_SUBDOMAINS", env.bool, not DEBUG)
SECURE_HSTS_PRELOAD = read("SECURE_HSTS_PRELOAD", env.bool, not DEBUG)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"once_per_minute": {"()": "config.logs.OncePerMinute"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "console_throttled": {"class": "logging.StreamHandler", "filters": ["once_per_minute"]},
    },
    "root": {"handlers": ["console"], "level": read("LOG_LEVEL", env.str, "INFO")},
    # Django's own logger has a console handler in DEBUG; don't print its lines twice.
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        # Cache outages (django-redis' ignored exceptions): one line a minute, not one a call.
        "sessions_app.cache": {"handlers": ["console_throttled"], "propagate": False},
        # django-axes: failed logins and lockouts (warnings), not four lines for every login.
        "axes": {"level": "WARNING"},
    },
}
