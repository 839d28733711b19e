"""Settings shared by every environment; everything deployment-specific comes from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is a convenience for developers; production sets real environment variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",  # before staticfiles: `runserver` serves ASGI (HTTP + WebSocket)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "axes",
    "csp",
    # Staff second factor: TOTP (authenticator apps) and single-use recovery codes (accounts.twofactor).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "channels",
    # Our apps, lowest layer first (see ARCHITECTURE.md). workdays (the working-day calendar) imports
    # no app of ours: halls' appointment slots and workflows' case clocks share it.
    "workdays",
    "govmap",
    "services",
    "halls",
    # notifications imports no app of ours; accounts imports it (login codes go out by SMS).
    "notifications",
    "accounts",
    "workflows",
    "ledger",
    "licences",
    # Remote video verification sits on workflows (cases) and notifications (the applicant's link).
    "remote",
    "ratings",
    "citizen_portal",
    # The map page and its endpoints read halls, queues and ratings: top layer, beside the portal.
    "mapview",
]

MIDDLEWARE = [
    # First: it times the whole stack and counts every answer (GET /metrics, config/metrics.py).
    "config.metrics.MetricsMiddleware",
    # First: every later reader of REMOTE_ADDR (throttles, axes, stored addresses) sees the real client.
    "config.client_ip.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (django-csp; policy below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy in every environment, so the browser tests run under the production policy:
# scripts and styles only from our own static files — no inline <script>, no on…= handlers, no
# CDN. The map page adds the hashes of folium's generated blocks (mapview.mappage), ReDoc its own
# needs (config.urls); nothing gets 'unsafe-inline' for scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # + the response's nonce: the city sites' colour variables come in one nonce'd <style> block.
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        # 'self' covers same-origin ws:/wss: (the live boards) in CSP 3 browsers.
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

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
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL + a busy timeout let the ASGI server, the eager Celery tasks and management commands
    # share the embedded database without "database is locked" errors under light concurrency.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    # Under ASGI each request runs in a thread of its own, so Django's persistent connections
    # (CONN_MAX_AGE > 0) are never reused: they pile up until PostgreSQL refuses new clients (the
    # fault drill, bench/faults.py, hit "too many clients" right after a database restart). So: no
    # persistent connections by default, and psycopg's pool when DB_POOL_MAX_SIZE is set (per process;
    # Django checks each pooled connection before handing it out, so a restart costs no errors).
    _pool_max = env.int("DB_POOL_MAX_SIZE", default=0)
    if _pool_max > 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": _pool_max,
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side parameter binding, and prepared statements: psycopg prepares a statement once a
    # connection has run it DB_PREPARE_THRESHOLD times, and PostgreSQL then stops re-planning it on
    # every request. Django turns psycopg's auto-prepare OFF unless OPTIONS names a threshold
    # (prepare_threshold=None, for PgBouncer's sake), and binding alone prepares nothing: with it
    # off, pg_stat_statements showed the case lookup's seven-table join PLANNED on every call, 8 ms
    # of planning against 0.2 ms of execution (bench/bench_api.py at 8 clients). Pooled connections
    # keep their prepared statements across requests. Turn both off behind a PgBouncer in
    # transaction mode older than 1.21 (DB_SERVER_SIDE_BINDING=false: no prepared statements there).
    if env.bool("DB_SERVER_SIDE_BINDING", default=True):
        _db_options = DATABASES["default"].setdefault("OPTIONS", {})
        _db_options["server_side_binding"] = True
        # Executions of one SQL text on one connection before psycopg prepares it (0: at once).
        DB_PREPARE_THRESHOLD: int = env.int("DB_PREPARE_THRESHOLD", default=5)
        _db_options["prepare_threshold"] = DB_PREPARE_THRESHOLD

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Language: Simplified Chinese by default, English by switch (/i18n/setlang/).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# whitenoise warns at every start when the collected-static directory is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploaded materials live outside the web root and are only ever served through permission checks.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The site's public address, for links sent by SMS (rating invitations, verification).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# JSON request bodies (config.parsers): larger is a 413, deeper nesting a 400.
JSON_MAX_BYTES = env.int("JSON_MAX_BYTES", default=1024 * 1024)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)

# Materials: the largest accepted upload (larger ones get a 413 with a clear message).
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)

REDIS_URL = env("REDIS_URL", default="")

# GET /metrics (Prometheus): when set, scrapers must send `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tongban"}
    )
}

# Channels: in-memory by default; channels-redis when REDIS_URL is set, in one of two flavours
# (CHANNEL_LAYER_BACKEND):
# - "pubsub" (default): RedisPubSubChannelLayer. group_send is one PUBLISH; every ASGI worker gets it
#   once and fans it out to its own sockets. Group membership lives in the worker, so it never
#   expires. A message for a consumer that is not connected is dropped (no capacity, no expiry):
#   fine for the live boards, which read the current state on (re)connect.
# - "core": RedisChannelLayer. Messages wait in Redis (capacity 1500, expiry 30 s) for a consumer
#   that is briefly away; groups expire after `group_expiry` (a day), so a screen connected for longer
#   silently stops hearing its group. Each consumer's receive() also costs more per message.
# bench/bench_ws.py compares them (1,000 sockets on one hall). redis-py 8's asyncio pool defaults to
# 100 connections, which fails with MaxConnectionsError under hundreds of sockets: set max_connections.
CHANNEL_LAYER_BACKENDS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}


def build_channel_layers(
    redis_url: str, backend: str, *, max_connections: int = 1000, socket_timeout: float = 30.0
) -> dict[str, dict[str, Any]]:
    """CHANNEL_LAYERS for REDIS_URL and CHANNEL_LAYER_BACKEND (in-memory without a Redis URL)."""
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    if backend not in CHANNEL_LAYER_BACKENDS:
        raise ImproperlyConfigured(
            f"CHANNEL_LAYER_BACKEND must be one of {', '.join(sorted(CHANNEL_LAYER_BACKENDS))}, not {backend!r}"
        )
    config: dict[str, Any] = {
        "hosts": [
            {
                "address": redis_url,
                "max_connections": max_connections,
                # redis-py's 5 s socket timeout equals the core layer's 5 s blocking read, so an idle
                # consumer (a quiet hall's call screen) would die; give it headroom.
                "socket_timeout": socket_timeout,
            }
        ]
    }
    if backend == "core":
        config.update(capacity=1500, expiry=30)
    return {"default": {"BACKEND": CHANNEL_LAYER_BACKENDS[backend], "CONFIG": config}}


CHANNEL_LAYER_BACKEND = env("CHANNEL_LAYER_BACKEND", default="pubsub")
CHANNEL_LAYERS = build_channel_layers(
    REDIS_URL,
    CHANNEL_LAYER_BACKEND,
    max_connections=env.int("CHANNELS_REDIS_MAX_CONNECTIONS", default=1000),
    socket_timeout=env.float("CHANNELS_REDIS_SOCKET_TIMEOUT", default=30.0),
)

# Celery: eager in the embedded default; a real broker when CELERY_BROKER_URL (or REDIS_URL) is set.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not (REDIS_URL or env("CELERY_BROKER_URL", default=""))
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# The beat schedule (every periodic task and its period) is in config/celery.py.

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF tokens that expire (accounts.tokens); rotated at each login, revoked at logout.
        "accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    # JSON with size and depth limits (config.parsers); form and multipart bodies as DRF's defaults.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Per address: carrier-grade NAT puts hundreds of mobile users behind one, so this is a backstop
    # only; the tight OTP limits are per code, phone and device (accounts.actions).
    "DEFAULT_THROTTLE_RATES": {"otp_verify": env("OTP_VERIFY_PER_IP_RATE", default="600/hour")},
    # REMOTE_ADDR is already the client (config.client_ip); 0 keeps DRF from reading X-Forwarded-For.
    "NUM_PROXIES": 0,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tongban 通办 API",
    "DESCRIPTION": "Province-wide government service handling (全省通办) — public interface v1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from drf-spectacular-sidecar: served locally, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The map's GeoJSON and popup endpoints are plain Django views: described by a hook.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mapview.map_schema.add_map_endpoints",
    ],
    # Several apps have a `level` or `state` field with different choice sets: name each one.
    "ENUM_NAME_OVERRIDES": {
        "RegionLevelEnum": "govmap.models.RegionLevel",
        "HandlingLevelEnum": "services.models.HandlingLevel",
        "HallLevelEnum": "halls.models.HallLevel",
        "ModeEnum": "services.models.Mode",
        "CaseStateEnum": "workflows.models.CaseState",
        "RectificationStateEnum": "ratings.models.RectState",
        "AppealStateEnum": "ratings.models.AppealState",
        "MaterialGradeEnum": "services.models.MaterialGrade",
        "MaterialViewKindEnum": "workflows.models.MaterialView.Kind",
        "MaterialViewOutcomeEnum": "workflows.models.MaterialView.Outcome",
        "VideoSessionKindEnum": "remote.models.SessionKind",
        "VideoSessionStateEnum": "remote.models.SessionState",
        "VideoSessionSideEnum": "remote.models.Side",
        "VerificationOutcomeEnum": "remote.models.Outcome",
    },
}

# django-axes: lock staff accounts after repeated failed logins.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
# The pair, not either one: five bad passwords lock that account *from that address* only, so a
# mistyping colleague behind the hall's NAT does not lock the whole hall, and nobody can lock a
# named account from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"

# Client address behind our reverse proxies (config.client_ip): CIDRs of the proxies we run, e.g.
# "10.0.0.0/8,127.0.0.1/32". Empty: X-Forwarded-For is ignored and the peer address is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"

# SMS (see notifications/backends.py).
SMS_BACKEND = env("SMS_BACKEND", default="console")
SMS_FILE_DIR = Path(env("SMS_FILE_DIR", default=str(BASE_DIR / "var" / "sms")))
SMS_RATE_PER_SECOND = env.float("SMS_RATE_PER_SECOND", default=10.0)
SMS_SENDER = env("SMS_SENDER", default="贵州政务服务")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
# Public URL Twilio posts delivery statuses to; the signature is computed over exactly this URL.
TWILIO_STATUS_CALLBACK_URL = env("TWILIO_STATUS_CALLBACK_URL", default="")
# Only for tests / local stand-ins: where the Twilio REST API lives instead of api.twilio.com.
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="")

# Key that encrypts ID numbers at rest (defaults to SECRET_KEY; set it to rotate SECRET_KEY safely).
PII_ENCRYPTION_KEY = env("PII_ENCRYPTION_KEY", default="")

# Citizen one-time codes.
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", default=300)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_PER_PHONE_PER_HOUR = env.int("OTP_PER_PHONE_PER_HOUR", default=5)
# Per address only as a backstop (carrier-grade NAT); per device cookie (accounts.devices) tighter.
OTP_PER_IP_PER_HOUR = env.int("OTP_PER_IP_PER_HOUR", default=300)
OTP_PER_DEVICE_PER_HOUR = env.int("OTP_PER_DEVICE_PER_HOUR", default=10)
OTP_VERIFY_PER_DEVICE_PER_HOUR = env.int("OTP_VERIFY_PER_DEVICE_PER_HOUR", default=30)
# Circuit breaker: codes sent province-wide per hour before only known devices get one (bounds the
# cost of SMS bombing across many numbers). Devices that logged in are known for this many days.
OTP_GLOBAL_PER_HOUR = env.int("OTP_GLOBAL_PER_HOUR", default=5000)
OTP_KNOWN_DEVICE_DAYS = env.int("OTP_KNOWN_DEVICE_DAYS", default=90)

# Real-name evidence for binding an ID number to a phone (accounts.realname). The embedded default
# has no national service: bindings are verified by a window's record or a clerk at a window.
# Production points REAL_NAME_SERVICE at accounts.realname.HttpRealNameService and sets the URL/key.
REAL_NAME_SERVICE = env("REAL_NAME_SERVICE", default="accounts.realname.NoRealNameService")
REAL_NAME_SERVICE_URL = env("REAL_NAME_SERVICE_URL", default="")
REAL_NAME_SERVICE_KEY = env("REAL_NAME_SERVICE_KEY", default="")
REAL_NAME_SERVICE_TIMEOUT = env.float("REAL_NAME_SERVICE_TIMEOUT", default=3.0)
# How long a clerk may see and attach another case's materials after the applicant consented (s).
REUSE_GRANT_SECONDS = env.int("REUSE_GRANT_SECONDS", default=1800)

# Remote video verification: ICE servers (JSON list, none by default: one extranet needs none),
# minutes a session waits for the other side.
REMOTE_ICE_SERVERS = env.json("REMOTE_ICE_SERVERS", default=[])
REMOTE_JOIN_MINUTES = env.int("REMOTE_JOIN_MINUTES", default=10)

# Map: no external tiles by default (government extranets are often offline).
MAP_TILE_URL = env("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", default="")

# Staff: a working day per session and per API token; citizens keep Django's two weeks (sessions)
# and a month (tokens). Second factor for approvers, supervisors and admins: required when
# STAFF_2FA_REQUIRED (on in production settings), otherwise only once a device is enrolled.
STAFF_SESSION_SECONDS = env.int("STAFF_SESSION_SECONDS", default=8 * 3600)
STAFF_TOKEN_TTL_SECONDS = env.int("STAFF_TOKEN_TTL_SECONDS", default=12 * 3600)
CITIZEN_TOKEN_TTL_SECONDS = env.int("CITIZEN_TOKEN_TTL_SECONDS", default=30 * 86400)
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
OTP_TOTP_ISSUER = "通办 Tongban"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# LOG_FORMAT=json: one JSON object per line (config/logging.py), for a log collector in production.
LOG_FORMAT = env("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", **({"formatter": "json"} if LOG_FORMAT == "json" else {})}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Tunables: each declared once here, typed, with its default and its environment variable of the
# same name. Apps read them as settings.NAME at call time (so override_settings works in tests).

# Appointments (halls.actions).
# Bookings per open window per slot.
APPOINTMENT_CAPACITY_PER_WINDOW: int = env.int("APPOINTMENT_CAPACITY_PER_WINDOW", default=2)
# A booked citizen may check in this many minutes before the slot and at most this many after it.
APPOINTMENT_CHECKIN_EARLY_MINUTES: int = env.int("APPOINTMENT_CHECKIN_EARLY_MINUTES", default=60)
APPOINTMENT_CHECKIN_LATE_MINUTES: int = env.int("APPOINTMENT_CHECKIN_LATE_MINUTES", default=15)
APPOINTMENT_HORIZON_DAYS: int = env.int("APPOINTMENT_HORIZON_DAYS", default=14)  # how far ahead slots can be booked
# No-shows in the look-back period after which a citizen may no longer book (slots are scarce).
APPOINTMENT_NO_SHOW_LIMIT: int = env.int("APPOINTMENT_NO_SHOW_LIMIT", default=3)

# Citizens' tracking pages poll the case this often (no WebSocket for anonymous visitors).
CITIZEN_TRACK_POLL_SECONDS: int = env.int("CITIZEN_TRACK_POLL_SECONDS", default=10)

# Hall coverage (halls.coverage): a resident farther than this from every hall is "uncovered".
COVERAGE_DISTANCE_KM: float = env.float("COVERAGE_DISTANCE_KM", default=5.0)
# Hall edits come in bursts (imports): the coverage refresh waits this long after the last one.
COVERAGE_REFRESH_DEBOUNCE_SECONDS: float = env.float("COVERAGE_REFRESH_DEBOUNCE_SECONDS", default=30.0)

# Ledger (ledger.conf): most entries one signed Merkle batch covers; rows per round trip when
# verify_ledger streams the log; how often beat seals pending entries (transparency-log batching).
LEDGER_BATCH_SIZE: int = env.int("LEDGER_BATCH_SIZE", default=10_000)
LEDGER_VERIFY_CHUNK: int = env.int("LEDGER_VERIFY_CHUNK", default=20_000)
LEDGER_SEAL_SECONDS: float = env.float("LEDGER_SEAL_SECONDS", default=60.0)

# The map page (govmap): how long the GeoJSON and the ratings layer are cached, how often the page
# refreshes itself.
MAP_GEOJSON_TTL_SECONDS: float = env.float("MAP_GEOJSON_TTL_SECONDS", default=2.0)
MAP_RATINGS_TTL_SECONDS: float = env.float("MAP_RATINGS_TTL_SECONDS", default=60.0)
MAP_REFRESH_SECONDS: float = env.float("MAP_REFRESH_SECONDS", default=30.0)

# Queues (halls): the service time assumed before a hall has history; the live boards' full refresh
# (a backstop for missed WebSocket pushes); how often the spatial index checks for hall changes.
QUEUE_DEFAULT_SERVICE_SECONDS: int = env.int("QUEUE_DEFAULT_SERVICE_SECONDS", default=300)
QUEUE_BOARD_REFRESH_SECONDS: float = env.float("QUEUE_BOARD_REFRESH_SECONDS", default=30.0)
SPATIAL_INDEX_RECHECK_SECONDS: float = env.float("SPATIAL_INDEX_RECHECK_SECONDS", default=5.0)

# 好差评 rectification (ratings.actions): days a department has to rectify a bad rating, and days
# overdue after which it escalates to the province.
RECTIFICATION_DAYS: int = env.int("RECTIFICATION_DAYS", default=15)
RECTIFICATION_PROVINCE_ESCALATION_DAYS: int = env.int("RECTIFICATION_PROVINCE_ESCALATION_DAYS", default=5)

# Results (licences.conf). Empty strings mean "not set": the env var of the same name read at call
# time, then the built-in default (a key dir under var/keys, the newest key, PUBLIC_BASE_URL).
RESULT_DOCUMENTS_PREFIX: str = env("RESULT_DOCUMENTS_PREFIX", default="results")  # storage prefix of PDFs
RESULT_PROVINCE_NAME: str = env("RESULT_PROVINCE_NAME", default="贵州省")  # the issuing authority printed
RESULT_SIGNING_ACTIVE_KID: str = env("RESULT_SIGNING_ACTIVE_KID", default="")
RESULT_SIGNING_KEY: str = env("RESULT_SIGNING_KEY", default="")  # a PEM from a secret store wins over the dir
RESULT_SIGNING_KEYS_DIR: str = env("RESULT_SIGNING_KEYS_DIR", default="")
RESULT_VERIFY_BASE_URL: str = env("RESULT_VERIFY_BASE_URL", default="")  # the origin printed into QR codes
RESULT_VERIFY_RATE: str = env("RESULT_VERIFY_RATE", default="120/minute")  # anonymous verification API
# The embedded default creates a development signing key on first use; production turns it off.
RESULT_SIGNING_AUTOGENERATE: bool = env.bool("RESULT_SIGNING_AUTOGENERATE", default=True)
# Result types printed on pre-printed, serially numbered blank stock (空白证书).
RESULT_BLANK_STOCK_TYPES: list[str] = env.list("RESULT_BLANK_STOCK_TYPES", default=["licence", "certificate"])
# CJK TrueType fonts to embed in result PDFs, first found wins (reportlab cannot embed CFF OpenType).
RESULT_PDF_FONTS: list[str] = env.list(
    "RESULT_PDF_FONTS",
    default=[
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    ],
)

# SMS outbox (notifications.conf).
SMS_DISPATCH_BATCH: int = env.int("SMS_DISPATCH_BATCH", default=500)  # due messages queued per sweep
SMS_MAX_ATTEMPTS: int = env.int("SMS_MAX_ATTEMPTS", default=5)  # provider attempts before a message is dead
# Messages that may go out back-to-back after an idle period; None: SMS_RATE_PER_SECOND rounded up.
SMS_RATE_BURST: int | None = env.int("SMS_RATE_BURST", default=None)
# How far ahead a worker may book a sending slot; beyond that it re-schedules without booking.
SMS_RATE_MAX_RESERVE_SECONDS: float = env.float("SMS_RATE_MAX_RESERVE_SECONDS", default=60.0)
SMS_RETRY_BACKOFF_BASE: float = env.float("SMS_RETRY_BACKOFF_BASE", default=30.0)  # doubled per further attempt
SMS_RETRY_BACKOFF_MAX: float = env.float("SMS_RETRY_BACKOFF_MAX", default=3600.0)
SMS_SENDING_TIMEOUT: float = env.float("SMS_SENDING_TIMEOUT", default=300.0)  # longer in "sending": worker died
SMS_DISPATCH_GRACE: float = env.float("SMS_DISPATCH_GRACE", default=30.0)  # wait for its own task before the sweep
TWILIO_HTTP_TIMEOUT: float = env.float("TWILIO_HTTP_TIMEOUT", default=10.0)

# Periods of the Celery beat sweeps (the schedule itself is in config/celery.py). Each sweep is
# idempotent; the period trades latency of recovery against load.
SMS_SWEEP_SECONDS: float = env.float("SMS_SWEEP_SECONDS", default=30.0)  # due, lost or stuck outbox messages
SLA_SWEEP_SECONDS: float = env.float("SLA_SWEEP_SECONDS", default=300.0)  # case clocks (warnings, overdue)
# Documents whose on-commit render was lost (worker down) are rendered by this sweep, and
# delivered results whose on-commit filing into the e-licence library was lost are filed.
RESULT_RENDER_SWEEP_SECONDS: float = env.float("RESULT_RENDER_SWEEP_SECONDS", default=300.0)
