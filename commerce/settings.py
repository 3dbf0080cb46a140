"""Settings for every way the site runs, read from the environment (one module).

With nothing set the site runs *embedded*: SQLite file, in-memory channel layer, local-memory
cache, Celery tasks executed eagerly. ``DATABASE_URL`` switches to PostgreSQL and ``REDIS_URL``
to the Redis channel layer, cache and Celery broker. An empty variable turns an integration off.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as corsheaders_default_headers
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env_str(name: str, default: str = "") -> str:
    return env.str(name, default=default) or ""


DATABASE_URL = _env_str("DATABASE_URL")
REDIS_URL = _env_str("REDIS_URL")
EMBEDDED = not DATABASE_URL

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret_key() -> str:
    configured = _env_str("SECRET_KEY")
    if configured:
        return configured
    if not (DEBUG or EMBEDDED):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off and DATABASE_URL is set.")
    # The embedded run keeps one generated key on disk so sessions survive a restart.
    VAR_DIR.mkdir(exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Keys retired by a rotation (docs/operations.md, "Rotating secrets"): still accepted for sessions,
# password-reset links and signed values while their holders move to the new key; never used to sign.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://localhost:8000", "http://127.0.0.1:8000"]
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django_prometheus",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "channels",
    "csp",
    "corsheaders",
    "commerce.accounts",
    "commerce.audit",
    "commerce.outbox",
    "django_celery_results",
    "django_structlog",
    "catalog",
    "carts",
    "orders",
    "conversations",
    "memory",
    "voice",
]

MIDDLEWARE = [
    # First, so every response (even one refused by a later middleware) carries X-Request-ID.
    "django_structlog.middlewares.RequestMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "commerce.headers.DuplicateHeaderMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "commerce.security.StoreCSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "commerce.middleware.ApiGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "commerce.logs.RequestUserMiddleware",
    "commerce.audit.context.AuditContextMiddleware",
    "commerce.ratelimit.AdminRateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "commerce.security.NoStoreMiddleware",
    "commerce.accounts.middleware.ShopperMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "commerce.urls"
WSGI_APPLICATION = "commerce.wsgi.application"
ASGI_APPLICATION = "commerce.asgi.application"

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
                "commerce.context_processors.site",
                "carts.context_processors.cart_badge",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- Data stores -----------------------------------------------------------------------------


def _database() -> dict:
    """``DATABASE_URL`` (PostgreSQL, or SQLite as ``sqlite:////path/db.sqlite3``) or, without it, the
    embedded SQLite file at ``SQLITE_PATH``. Both engines count and time their statements with
    django-prometheus' metrics (commerce.metered_db)."""
    if DATABASE_URL:
        config = env.db_url_config(DATABASE_URL)
    else:
        VAR_DIR.mkdir(exist_ok=True)
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "db.sqlite3")),
        }
    engine = config["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        config["ENGINE"] = "commerce.metered_db.sqlite3"
        # IMMEDIATE: a writer takes the lock at BEGIN, so two checkouts queue instead of deadlocking.
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE", **config.get("OPTIONS", {})}
    elif engine == "postgresql":
        config["ENGINE"] = "commerce.metered_db.postgresql"
        config["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
        # A PostgreSQL that is down or drops packets must fail a request fast, never hang a worker:
        # libpq gives up connecting after DB_CONNECT_TIMEOUT_SECONDS (its minimum is 2), and the kernel
        # drops a connection whose sent data goes unacknowledged for DB_TCP_USER_TIMEOUT_MS. Web processes
        # also cap each statement (DB_STATEMENT_TIMEOUT_MS, set by commerce.db for wsgi/asgi only, so
        # migrations and Celery tasks are not cut short).
        config.setdefault("OPTIONS", {}).update(
            {
                "connect_timeout": max(2, env.int("DB_CONNECT_TIMEOUT_SECONDS", default=2)),
                "tcp_user_timeout": env.int("DB_TCP_USER_TIMEOUT_MS", default=5000),
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            }
        )
        # Prepared statements: psycopg prepares a statement on the server once a connection has run it
        # DB_PREPARE_THRESHOLD times (parameters bound server-side); later runs skip parsing and
        # planning. Measured on the chat (docs/benchmarks.md): PostgreSQL's CPU a message -43% through
        # the sockets, the serving process's -20% in process. 0: parameters are bound client-side and
        # nothing is prepared (Django's default; for a pooler in transaction mode that cannot keep
        # prepared statements, e.g. PgBouncer before 1.21).
        prepare_threshold = env.int("DB_PREPARE_THRESHOLD", default=5)
        if prepare_threshold > 0:
            config["OPTIONS"].update({"server_side_binding": True, "prepare_threshold": prepare_threshold})
        # DB_POOL_MAX_SIZE > 0: a psycopg connection pool per process instead of persistent
        # connections (Django's own pool; CONN_MAX_AGE must then be 0). For Daphne: every
        # database_sync_to_async call of a socket ends by closing its connection, which without a pool
        # means a new PostgreSQL connection (a server process forked) for every message.
        pool_size = env.int("DB_POOL_MAX_SIZE", default=0)
        if pool_size > 0:
            config["CONN_MAX_AGE"] = 0
            config["OPTIONS"]["pool"] = {
                "min_size": 1,
                "max_size": pool_size,
                # Waiting for a free connection is bounded like connecting: fail fast, never hang.
                "timeout": env.float("DB_POOL_TIMEOUT_SECONDS", default=5.0),
            }
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL names the {engine!r} engine; this store runs on PostgreSQL or SQLite."
        )
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=5000)

# Redis (cache, channel layer, Celery broker): how long to wait for a connection and for an answer, and
# how long the cache then leaves Redis alone before trying again (commerce.cache). Without these a
# Redis that silently drops packets would hang every worker that touches it.
REDIS_SOCKET_CONNECT_TIMEOUT_SECONDS = env.float("REDIS_SOCKET_CONNECT_TIMEOUT_SECONDS", default=1.0)
REDIS_SOCKET_TIMEOUT_SECONDS = env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=2.0)
REDIS_RETRY_AFTER_SECONDS = env.float("REDIS_RETRY_AFTER_SECONDS", default=5.0)
# /health remembers the channel layer's and the broker's answers this long per process (commerce/health.py).
HEALTH_CHECK_CACHE_SECONDS = env.float("HEALTH_CHECK_CACHE_SECONDS", default=5.0)
_REDIS_SOCKET_OPTIONS = {
    "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
}

# A read replica for catalog reads (docs/scaling.md): set, the catalog's reads outside a transaction go
# to it (commerce.db_router.CatalogReplicaRouter); writes, every other app and reads inside a transaction
# stay on the primary. Empty: one database. In tests the replica mirrors the primary's test database.
DATABASE_REPLICA_URL = _env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL and DATABASE_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "ENGINE": DATABASES["default"]["ENGINE"],
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["commerce.db_router.CatalogReplicaRouter"]

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis backend (counting gets, hits and misses as django-prometheus' does) answering
            # like an empty cache while Redis is unreachable.
            "BACKEND": "commerce.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="commerce"),
            # No retries inside redis-py: the breaker in commerce.cache decides when to try again.
            "OPTIONS": {**_REDIS_SOCKET_OPTIONS, "retry": Retry(NoBackoff(), 0)},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, **_REDIS_SOCKET_OPTIONS}],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="commerce"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# The Celery worker's own /metrics (commerce/metrics.py), behind METRICS_TOKEN; empty or 0: none.
CELERY_METRICS_PORT = int(_env_str("CELERY_METRICS_PORT") or 0)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Celery's Django fixup closes a worker's database connection before and after every task unless this
# is set: a new PostgreSQL connection (a server process forked) for every job. Set, the fixup recycles
# it every this many tasks, and commerce.celery checks it between tasks as Django does between
# requests: closed when an error left it unusable or it is older than CONN_MAX_AGE, and health-checked
# at its next use (CONN_HEALTH_CHECKS), so one that died with its server is replaced then.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = "UTC"
# Never wait long for a broker that is down: the outbox keeps the task and beat's sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_CONNECT_TIMEOUT_SECONDS
# Every task sets its own soft and hard time limits (a test checks); these catch any that does not.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT_SECONDS", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT_SECONDS", default=150)
# The longest a published task may wait before it runs (an ETA): Celery's retry backoff stops at
# 600 s (retry_backoff_max), the voice simulator's callback waits VOICE_SIMULATOR_CALLBACK_DELAY_SECONDS,
# and commerce.celery.enqueue clamps any longer countdown. (Voice retry backoff is not an ETA: the
# job's next_attempt_at is in the database and beat's scan picks it up.) With Redis as broker a task
# not acknowledged within visibility_timeout is delivered again, so it must be longer than any ETA,
# or a task waiting for its ETA would be delivered twice.
CELERY_LONGEST_ETA_SECONDS = max(600, env.int("VOICE_SIMULATOR_CALLBACK_DELAY_SECONDS", default=3))
CELERY_BROKER_VISIBILITY_TIMEOUT_SECONDS = max(3600, 2 * CELERY_LONGEST_ETA_SECONDS)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT_SECONDS,
    # Above kombu's one-second BRPOP, which would otherwise time out on an idle queue.
    "socket_timeout": max(2.0, REDIS_SOCKET_TIMEOUT_SECONDS),
    # A publish tries a fresh connection once, at once (kombu's default retries for seconds).
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
}
# The transactional outbox (commerce.outbox): how often beat re-publishes what the broker missed, how
# long a new row is left to the request that wrote it, and after how many failed publishes a row is
# marked failed for staff (admin: Task outbox).
OUTBOX_SWEEP_INTERVAL_SECONDS = max(5, env.int("OUTBOX_SWEEP_INTERVAL_SECONDS", default=30))
OUTBOX_SWEEP_GRACE_SECONDS = env.int("OUTBOX_SWEEP_GRACE_SECONDS", default=10)
OUTBOX_MAX_ATTEMPTS = max(1, env.int("OUTBOX_MAX_ATTEMPTS", default=25))
_VOICE_SCAN_INTERVAL_SECONDS = max(5, env.int("VOICE_RECOVERY_SCAN_INTERVAL_SECONDS", default=30))
# Failed tasks are kept (django-celery-results, Admin › Celery results › Task results) and nothing
# else: successes are not stored. Retries show as RETRY until the last attempt.
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_STORE_ERRORS_EVEN_IF_IGNORED = True
CELERY_RESULT_EXPIRES = timedelta(days=env.int("CELERY_FAILED_TASK_RETENTION_DAYS", default=14))
# One beat: celery-redbeat keeps the schedule in Redis and holds a lock there, so a second beat started
# by mistake waits for the lock and sends nothing; it takes over within CELERY_REDBEAT_LOCK_TIMEOUT
# seconds of the first one dying. Beat wakes at least every 5 s and extends the lock each time.
if REDIS_URL:
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_REDBEAT_REDIS_OPTIONS = dict(_REDIS_SOCKET_OPTIONS)
    CELERY_REDBEAT_KEY_PREFIX = env.str("CELERY_REDBEAT_KEY_PREFIX", default="commerce:redbeat")
    CELERY_REDBEAT_LOCK_TIMEOUT = env.int("CELERY_REDBEAT_LOCK_TIMEOUT", default=30)
CELERY_BEAT_MAX_LOOP_INTERVAL = 5
# Every periodic task, in one place. Run exactly one beat process; each entry
# expires so a run that waited longer than its period is dropped instead of piling up.
CELERY_BEAT_SCHEDULE = {
    # Expired idempotency keys are ignored on use anyway; this only keeps the table small.
    "orders-purge-idempotency-records": {
        "task": "orders.purge_idempotency_records",
        "schedule": timedelta(hours=1),
        "options": {"expires": 30 * 60},
    },
    "orders-purge-acp-idempotency-records": {
        "task": "orders.acp.purge_idempotency_records",
        "schedule": timedelta(hours=1),
        "options": {"expires": 30 * 60},
    },
    "conversations-summarize-idle": {
        "task": "conversations.summarize_idle",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 10 * 60},
    },
    "conversations-purge-unused-guest-sessions": {
        "task": "conversations.purge_unused_guest_sessions",
        "schedule": timedelta(minutes=10),
        "options": {"expires": 9 * 60},
    },
    "memory-cleanup": {
        "task": "memory.cleanup",
        "schedule": timedelta(days=1),
        "options": {"expires": 6 * 3600},
    },
    # The task itself checks VOICE_RECOVERY_SCHEDULER_ENABLED (environment or admin), so staff can switch
    # scanning at run time; a scan that waited longer than one interval is superseded by the next.
    # Publishes the outbox's tasks whose first publish failed (broker down) once it is back.
    "outbox-sweep": {
        "task": "outbox.sweep",
        "schedule": timedelta(seconds=OUTBOX_SWEEP_INTERVAL_SECONDS),
        "options": {"expires": OUTBOX_SWEEP_INTERVAL_SECONDS},
    },
    "voice-recovery-scan": {
        "task": "voice.recovery_scan",
        "schedule": timedelta(seconds=_VOICE_SCAN_INTERVAL_SECONDS),
        "options": {"expires": _VOICE_SCAN_INTERVAL_SECONDS},
    },
}

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

SESSION_COOKIE_SAMESITE = env.str("SESSION_COOKIE_SAMESITE", default="Lax")

# --- Browser and deployment hardening (issue 12) ---
# Outside the embedded (or DEBUG) run the site is meant to sit behind the TLS proxy of deploy/, so the
# secure defaults are on there. Each is switched off by its Django name (`false`/`0`) for a plain-HTTP
# test rig. docs/security.md says what each one protects and which test proves it.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

SECURE_BY_DEFAULT = not (DEBUG or EMBEDDED)


def _secure_default(name: str, default: bool | int) -> bool | int:
    """``name`` from the environment; left empty it keeps the secure default (an empty line in an old
    .env must not switch a protection off), only an explicit value such as `false` or `0` does."""
    if not _env_str(name).strip():
        return default
    return env.int(name) if isinstance(default, int) and not isinstance(default, bool) else env.bool(name)


SECURE_SSL_REDIRECT = _secure_default("SECURE_SSL_REDIRECT", SECURE_BY_DEFAULT)
# Container health checks and the Prometheus scrape reach the app directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^health/live$", r"^metrics$"]
SECURE_HSTS_SECONDS = _secure_default("SECURE_HSTS_SECONDS", 31_536_000 if SECURE_BY_DEFAULT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure_default("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading commits the whole domain to HTTPS in browsers for good: the operator's decision, not ours,
# so `check --deploy`'s reminder of it is silenced unless the operator turns preload on.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Only behind the TLS proxy, which sets X-Forwarded-Proto itself: a client reaching the app directly
# could otherwise claim https. Off (`false`) when the app is exposed without that proxy.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if _secure_default("SECURE_PROXY_SSL_HEADER", SECURE_BY_DEFAULT)
    else None
)
# The Django session, the CSRF cookie and the guest `session_id` cookie (commerce.accounts.shoppers).
SESSION_COOKIE_SECURE = _secure_default("SESSION_COOKIE_SECURE", SECURE_BY_DEFAULT)
CSRF_COOKIE_SECURE = _secure_default("CSRF_COOKIE_SECURE", SECURE_BY_DEFAULT)
# The `__Host-` prefix makes browsers refuse the cookie unless it is Secure, for this host only and for
# every path, so neither a subdomain nor plain HTTP can plant or overwrite it. (The guest `session_id`
# cookie keeps its name: API clients rely on it, CONTRACT.md section 2.)
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts and styles from this origin or carrying the request's
# nonce, nothing inline otherwise, no eval. StoreCSPMiddleware adds the site's own ws(s):// origin to
# connect-src for the chat socket. Catalog images imported from another host need that host here.
# (Not named CSP_*: django-csp 4 reads such names as its old settings and refuses to start.)
CONTENT_SECURITY_POLICY_IMAGE_ORIGINS = env.list("CONTENT_SECURITY_POLICY_IMAGE_ORIGINS", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", *CONTENT_SECURITY_POLICY_IMAGE_ORIGINS],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": "/csp-report/",
    },
}
# Browser features the store never uses are refused to every frame, including the store's own.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
# Prometheus' scrape sends `Authorization: Bearer <METRICS_TOKEN>`; empty = /metrics open (embedded run).
METRICS_TOKEN = _env_str("METRICS_TOKEN")

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # A personal access token (pat_...) first: simplejwt would refuse it as a malformed JWT.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "commerce.accounts.authentication.PersonalAccessTokenAuthentication",
        "commerce.accounts.authentication.StoreJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["commerce.parsers.JSONParser", "commerce.parsers.AnyContentJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "commerce.pagination.ContractPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "commerce.openapi.StoreAutoSchema",
    "EXCEPTION_HANDLER": "commerce.errors.api_exception_handler",
    # Three tiers and penalty windows (commerce.throttling; settings in the API hardening block).
    "DEFAULT_THROTTLE_CLASSES": ["commerce.throttling.TieredRateThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # How many proxies add to X-Forwarded-For in front of the app: 0 = clients connect directly (the
    # header is ignored, so a client cannot pick its own address to dodge per-IP limits); 1 behind nginx.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("ACCESS_TOKEN_TTL_SECONDS", default=900)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("REFRESH_TOKEN_TTL_SECONDS", default=604800)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": _env_str("TOKEN_SECRET") or SECRET_KEY,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Commerce API",
    "DESCRIPTION": "The public JSON API of the omni-channel store (see docs/ and CONTRACT.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The API documents JSON bodies; the catch-all parser exists only for ENFORCE_JSON_CONTENT_TYPE=false.
    "PARSER_WHITELIST": ["commerce.parsers.JSONParser"],
    # Links declared beside each view move under its responses (commerce.openapi; docs/api.md).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "commerce.openapi.text_rule_for_parameters",
        "commerce.openapi.move_response_links",
    ],
}
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_BYTES

# --- API hardening (issue 18) -----------------------------------------------------------------
# CORS for /api/v1/ only (django-cors-headers): exact origins, credentials allowed for them alone (the
# library echoes the one origin, never "*"). The chat socket accepts these origins too (commerce.origins).
CORS_ALLOWED_ORIGINS = [origin.strip() for origin in env.list("CORS_ORIGINS", default=[]) if origin.strip()]
if any("*" in origin for origin in CORS_ALLOWED_ORIGINS):
    raise ImproperlyConfigured("CORS_ORIGINS lists exact origins (https://shop.example.com), never '*'.")
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (*corsheaders_default_headers, "x-session-id", "idempotency-key")
CORS_EXPOSE_HEADERS = ["X-Session-Id", "Retry-After", "X-Request-ID"]
# Requests a minute per client (commerce.ratelimit): anonymous by address, signed in by user, staff
# (API and admin); a client refused again while refused waits the next penalty window (minutes).
RATE_LIMIT_ANONYMOUS_PER_MINUTE = env.int("RATE_LIMIT_ANONYMOUS_PER_MINUTE", default=120)
RATE_LIMIT_AUTHENTICATED_PER_MINUTE = env.int("RATE_LIMIT_AUTHENTICATED_PER_MINUTE", default=600)
RATE_LIMIT_ADMIN_PER_MINUTE = env.int("RATE_LIMIT_ADMIN_PER_MINUTE", default=2000)
_penalty_minutes = _env_str("RATE_LIMIT_PENALTY_MINUTES") or "1,5,30"
try:
    RATE_LIMIT_PENALTY_MINUTES = [int(m) for m in _penalty_minutes.split(",")]
except ValueError:
    RATE_LIMIT_PENALTY_MINUTES = []
if not RATE_LIMIT_PENALTY_MINUTES or min(RATE_LIMIT_PENALTY_MINUTES) < 1:
    raise ImproperlyConfigured("RATE_LIMIT_PENALTY_MINUTES is a comma-separated list of whole minutes >= 1.")
# 400 duplicate_header for a repeated Host, Content-Length, Content-Type, Transfer-Encoding,
# Authorization, X-Session-Id or Idempotency-Key (commerce.headers).
REJECT_DUPLICATE_CRITICAL_HEADERS = env.bool("REJECT_DUPLICATE_CRITICAL_HEADERS", default=True)
# On: API bodies must be application/json (else 415). Off: any body that is valid JSON is read as JSON.
ENFORCE_JSON_CONTENT_TYPE = env.bool("ENFORCE_JSON_CONTENT_TYPE", default=True)

# --- Accounts: staff MFA, login throttling, passwords (issue 12) -------------------------------
# docs/security.md "Accounts: MFA, throttling, passwords" says what each protects and its test.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static", "axes"]
# OTPMiddleware gives request.user.is_verified(); AxesMiddleware must come last (its documented place).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
# The axes backend first: it refuses a locked account or address before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Staff need a confirmed TOTP device (and the code) for every /admin/ page. Off in the embedded run,
# where the admin links to the enrolment page instead so the demo shows it. Left empty: that default.
ADMIN_MFA_REQUIRED = _secure_default("ADMIN_MFA_REQUIRED", not EMBEDDED)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Commerce")
MFA_BACKUP_CODES = 10
# Failed sign-ins (or password checks) before an account, and separately an address, is locked, and
# for how long. Counted in the shared cache (Redis outside the embedded run), so every process agrees.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_MINUTES = env.int("LOGIN_COOLOFF_MINUTES", default=15)
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
if not REDIS_URL:
    # The embedded run is one process, so its local-memory cache is the shared store axes warns about.
    SILENCED_SYSTEM_CHECKS.append("axes.W001")
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "commerce.accounts.throttle.axes_username"
# The address the API rate limits use (REST_FRAMEWORK NUM_PROXIES), never a client-chosen header.
AXES_CLIENT_IP_CALLABLE = "commerce.accounts.throttle.axes_client_ip"
# Each door answers a lock itself (429 rate_limited or a form error): axes' own page is never used.
AXES_LOCKOUT_CALLABLE = "commerce.accounts.throttle.axes_keep_response"
# Password-reset e-mails asked for per client address an hour.
PASSWORD_RESET_PER_HOUR = env.int("PASSWORD_RESET_PER_HOUR", default=5)
# SMTP from EMAIL_URL (smtp+tls://user:password@host:587); empty = e-mails printed to the console.
EMAIL_URL = _env_str("EMAIL_URL")
if EMAIL_URL:
    globals().update(env.email_url_config(EMAIL_URL))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="store@localhost")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)

# --- Commerce rules --------------------------------------------------------------------------
CURRENCY = env.str("CURRENCY", default="USD")
CART_TAX_RATE = Decimal(env.str("CART_TAX_RATE", default="0.08"))
DEFAULT_SHIPPING_FEE = Decimal(env.str("DEFAULT_SHIPPING_FEE", default="5.99"))
CART_MAX_LINE_QUANTITY = 50
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=30)
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
# How long an agent's prepare_checkout confirmation id stays usable by place_order (seconds).
CHECKOUT_CONFIRMATION_TTL_SECONDS = env.int("CHECKOUT_CONFIRMATION_TTL_SECONDS", default=600)
# An MCP session (/mcp) with no request for this long is closed; its client starts a new one.
MCP_SESSION_IDLE_SECONDS = env.int("MCP_SESSION_IDLE_SECONDS", default=1800)
SHOPPER_SESSION_TTL_DAYS = env.int("SHOPPER_SESSION_TTL_DAYS", default=30)

# --- Agentic Commerce Protocol checkout (orders/acp, docs/agents.md) --------------------------
# The secret shared with the agent platform: it signs the platform's requests and our order events.
# Empty: /acp/ answers 404 (the integration is off).
ACP_SIGNING_SECRET = _env_str("ACP_SIGNING_SECRET")
# When set, requests must also carry ``Authorization: Bearer <ACP_API_KEY>`` (the spec's API key).
ACP_API_KEY = _env_str("ACP_API_KEY")
ACP_SIGNATURE_TOLERANCE_SECONDS = env.int("ACP_SIGNATURE_TOLERANCE_SECONDS", default=300)
# The platform's order-event receiver; empty: no order events are sent.
ACP_WEBHOOK_URL = _env_str("ACP_WEBHOOK_URL")
ACP_WEBHOOK_MAX_RETRIES = env.int("ACP_WEBHOOK_MAX_RETRIES", default=6)
ACP_WEBHOOK_TIMEOUT_SECONDS = env.float("ACP_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Where order pages live, for the permalink_url the platform shows the buyer.
ACP_STORE_URL = _env_str("ACP_STORE_URL", "http://localhost:8000").rstrip("/")
ACP_SESSION_TTL_HOURS = env.int("ACP_SESSION_TTL_HOURS", default=24)
# A request still "in flight" after this long is taken to have died: its key may be claimed again.
ACP_IN_FLIGHT_LEASE_SECONDS = env.int("ACP_IN_FLIGHT_LEASE_SECONDS", default=120)

# --- Assistant and LLM (issue 11) ------------------------------------------------------------
# The model is optional: with LLM_ENABLED off (the default) the assistant is rules only, no network.
LLM_ENABLED = env.bool("LLM_ENABLED", default=False)
LLM_PROVIDER = env.str("LLM_PROVIDER", default="openai").strip().lower()
if LLM_PROVIDER not in ("openai", "anthropic"):
    raise ImproperlyConfigured(f"LLM_PROVIDER must be openai or anthropic, not {LLM_PROVIDER!r}.")
_LLM_DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}
LLM_MODEL = _env_str("LLM_MODEL") or _LLM_DEFAULT_MODELS[LLM_PROVIDER]
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=8.0)
LLM_MAX_TOKENS = env.int("LLM_MAX_TOKENS", default=200)
LLM_TEMPERATURE = env.float("LLM_TEMPERATURE", default=0.0)
LLM_RETRIES = env.int("LLM_RETRIES", default=1)
LLM_DECISION_POLICY = env.str("LLM_DECISION_POLICY", default="rules_first").strip().lower()
if LLM_DECISION_POLICY not in ("rules_first", "llm_first", "shadow"):
    raise ImproperlyConfigured(
        f"LLM_DECISION_POLICY must be rules_first, llm_first or shadow, not {LLM_DECISION_POLICY!r}."
    )
LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = env.int("LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD", default=5)
LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS = env.float("LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS", default=60.0)
PLANNER_CANARY_PERCENT = env.int("PLANNER_CANARY_PERCENT", default=100)
LLM_INTENT_CLASSIFIER_ENABLED = env.bool("LLM_INTENT_CLASSIFIER_ENABLED", default=False)
LLM_PLANNER_ENABLED = env.bool("LLM_PLANNER_ENABLED", default=True)
PLANNER_FEATURE_ENABLED = env.bool("PLANNER_FEATURE_ENABLED", default=True)
LLM_PLANNER_MAX_ACTIONS = env.int("LLM_PLANNER_MAX_ACTIONS", default=5)
LLM_DAILY_TOKENS_PER_USER = env.int("LLM_DAILY_TOKENS_PER_USER", default=50_000)
OPENAI_API_KEY = _env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = _env_str("OPENAI_BASE_URL")
ANTHROPIC_API_KEY = _env_str("ANTHROPIC_API_KEY")
ANTHROPIC_BASE_URL = _env_str("ANTHROPIC_BASE_URL")
# US dollars per million tokens (input, output) for the cost estimate stored with each model turn;
# a model not listed costs 0 unless LLM_PRICE_INPUT_PER_MTOK / LLM_PRICE_OUTPUT_PER_MTOK say otherwise.
_LLM_KNOWN_PRICES = {
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1": ("2.00", "8.00"),
    "claude-haiku-4-5": ("1.00", "5.00"),
    "claude-sonnet-4-5": ("3.00", "15.00"),
    "claude-3-5-haiku-latest": ("0.80", "4.00"),
}
_llm_known_price = _LLM_KNOWN_PRICES.get(LLM_MODEL, ("0", "0"))
LLM_PRICE_INPUT_PER_MTOK = Decimal(_env_str("LLM_PRICE_INPUT_PER_MTOK") or _llm_known_price[0])
LLM_PRICE_OUTPUT_PER_MTOK = Decimal(_env_str("LLM_PRICE_OUTPUT_PER_MTOK") or _llm_known_price[1])
LLM_PLANNER_MIN_CONFIDENCE = env.float("LLM_PLANNER_MIN_CONFIDENCE", default=0.55)
LLM_PLANNER_EXECUTION_MODE = env.str("LLM_PLANNER_EXECUTION_MODE", default="partial")
ORCHESTRATOR_MAX_ACTIONS_PER_REQUEST = env.int("ORCHESTRATOR_MAX_ACTIONS_PER_REQUEST", default=5)
WS_HEARTBEAT_INTERVAL_SECONDS = env.int("WS_HEARTBEAT_INTERVAL_SECONDS", default=25)
WS_HEARTBEAT_TIMEOUT_SECONDS = env.int("WS_HEARTBEAT_TIMEOUT_SECONDS", default=70)
# The socket's ``typing`` {on: true} is sent once a message has waited this long for its answer (and
# {on: false} before the answer, only then): an answer that comes sooner is not announced. 0: always,
# at once.
CHAT_TYPING_DELAY_MS = max(0, env.int("CHAT_TYPING_DELAY_MS", default=300))

# --- Chat abuse limits and socket auth (issue 12) --------------------------------------------
# Messages a minute through the chat (socket and POST /interactions/message), counted per socket, per
# shopper session and per user in the shared cache; 0 turns the limit off.
CHAT_MESSAGES_PER_MINUTE = env.int("CHAT_MESSAGES_PER_MINUTE", default=30)
# Worker threads per Daphne process serving chat messages (conversations/consumers.py); at most the
# connection pool's size when there is one; 0: Channels' one thread for every socket of the process.
CHAT_WORKER_THREADS = max(
    0, min(env.int("CHAT_WORKER_THREADS", default=4), env.int("DB_POOL_MAX_SIZE", default=0) or 1_000)
)
# Guest (not signed-in) socket connects a minute per client address; 0 turns the limit off.
CHAT_GUEST_CONNECTS_PER_MINUTE = env.int("CHAT_GUEST_CONNECTS_PER_MINUTE", default=20)
# A guest session with nothing in it (no message, cart or handoff code) is deleted by beat once it is
# this many minutes old; 0 keeps them until they expire.
CHAT_GUEST_SESSION_PURGE_MINUTES = env.int("CHAT_GUEST_SESSION_PURGE_MINUTES", default=60)

# --- Memory (docs/memory.md) ------------------------------------------------------------------
# A memory write (a stated preference, a forgotten interest) ranks the shopper's most recent this many
# recommended listings again itself, after its commit and before it answers; the rest are ranked by a
# Celery task (docs/memory.md, "Warming after a memory write"). 0: all by the task.
MEMORY_WARM_INLINE_LISTINGS = env.int("MEMORY_WARM_INLINE_LISTINGS", default=1)

# --- Voice recovery --------------------------------------------------------------------------
SUPERU_ENABLED = env.bool("SUPERU_ENABLED", default=False)
SUPERU_API_URL = env.str("SUPERU_API_URL", default="https://voip-middlware.superu.ai")
SUPERU_API_KEY = _env_str("SUPERU_API_KEY")
SUPERU_WEBHOOK_SECRET = _env_str("SUPERU_WEBHOOK_SECRET")

# --- Static files, i18n, logging -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Structured logs (commerce/logs.py, docs/operations.md "Logs"): JSON lines in production, readable
# key=value lines in the embedded run; each carries request_id, user_id and session_id (a digest) of the
# request, socket or Celery task it belongs to. X-Request-ID is accepted (when sane) or made, and returned.
from commerce.logs import configure_structlog, logging_config  # noqa: E402

LOG_FORMAT = (_env_str("LOG_FORMAT").strip() or ("console" if (EMBEDDED or DEBUG) else "json")).lower()
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or console, not {LOG_FORMAT!r}.")
LOGGING = logging_config(fmt=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
configure_structlog()
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# The header is read by commerce.logs, which keeps it only when it is a sane token.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = False
# user_id is bound by commerce.logs itself; django-structlog's own lookup would read request.user again
# after a failed request, which with the database down costs a second connect timeout.
DJANGO_STRUCTLOG_USER_ID_FIELD = None
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # the rate limiter's address (NUM_PROXIES) is the one to trust
# The worker keeps this configuration instead of installing its own plain-text handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
