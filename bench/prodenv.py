"""The one environment of the production shape that the benches give their child processes.

bench/stack.py (the replay's and the fault drill's stack) and bench/bench_api.py (gunicorn/uvicorn and
a Celery worker) run `config.settings.production` on loopback in child processes; the in-process
benches (bench_results and the others on bench/_bootstrap.setup_django) run local settings and need
none of this. What production refuses (a weak or missing secret key, auto-generated signing keys,
plain http, staff without a second factor) and what the benches serve (plain http on 127.0.0.1, a
key made in the work directory) is decided here once; each caller keeps its own values (key, URLs,
pool, log level, SMS backend) as arguments and `extra`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

# What a child must not inherit from the shell that started the bench (its own settings, database,
# broker): the caller names the prefixes, as stack.py also drops DATABASE_/REDIS_ and bench_api does not.
DEFAULT_DROP = ("DJANGO_", "CELERY_")


def production_env(
    *,
    secret_key: str,
    database_url: str,
    redis_url: str,
    broker_url: str | None = None,
    signing_keys_dir: Path | str,
    media_root: Path | str,
    static_root: Path | str | None = None,
    allowed_hosts: str = "127.0.0.1,localhost",
    log_level: str = "WARNING",
    pool: Mapping[str, str] | None = None,
    drop: Iterable[str] = DEFAULT_DROP,
    base: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a process that runs the app with production settings on loopback.

    base: the environment to start from (default os.environ), minus every variable that starts with
    one of `drop`. broker_url: Celery's broker (default: redis_url). pool: the psycopg pool settings
    (DB_POOL_MAX_SIZE, DB_POOL_MIN_SIZE, DB_POOL_TIMEOUT), passed as they are. extra: set last, so a
    caller's own variables win.
    """
    prefixes = tuple(drop)
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith(prefixes)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_ALLOWED_HOSTS=allowed_hosts,
        # Production refuses auto-generated keys: the caller creates a real one in signing_keys_dir.
        RESULT_SIGNING_AUTOGENERATE="false",
        RESULT_SIGNING_KEYS_DIR=str(signing_keys_dir),
        # Served over plain http on loopback (no TLS proxy in front of it).
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        # The benches' staff log in with passwords (tokens); TOTP enrolment is not simulated.
        STAFF_2FA_REQUIRED="false",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=broker_url or redis_url,
        MEDIA_ROOT=str(media_root),
        LOG_LEVEL=log_level,
    )
    if static_root is not None:
        env["STATIC_ROOT"] = str(static_root)
    env.update(pool or {})
    env.update(extra or {})
    return env
