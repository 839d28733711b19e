"""Database and Django bootstrap shared by the in-process bench scripts.

Every script measures against a database of its own: a throw-away SQLite file, or a PostgreSQL
database named on the command line that is dropped and re-created first. Django is then set up in
this process with DEBUG off (DEBUG keeps every query in memory: not what we measure) and, unless
asked otherwise, Celery without a worker (memory broker, not eager) and the locmem SMS backend.

(The HTTP benches — bench_nearest, bench_map, bench_ws — serve a database from child processes and
share bench_nearest's helpers instead.)
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare_database(url: str | None, tmp: str | None = None) -> str:
    """The database URL to use: URL itself, its PostgreSQL database DROPPED and re-created first;
    without URL a fresh SQLite file in TMP."""
    if not url:
        if tmp is None:
            raise ValueError("a database URL or a temporary directory for SQLite is needed")
        return f"sqlite:///{tmp}/bench.sqlite3"
    if url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


def setup_django(
    url: str,
    *,
    settings: str = "config.settings.local",
    eager: bool | None = False,
    migrate: bool | str = True,
    quiet: bool = True,
    **env: str,
) -> None:
    """Point Django at URL and set it up in this process.

    eager: run Celery tasks inline (True), publish them to the memory broker for no worker (False),
    or leave Celery and the SMS backend as the settings have them (None). migrate: every app (True),
    one app (its label) or none (False). quiet: silence log records below ERROR (task and login
    chatter would drown the figures). Further keyword arguments are set as environment variables.
    """
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    os.environ["DJANGO_DEBUG"] = "false"
    if eager is not None:
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true" if eager else "false"
        os.environ["CELERY_BROKER_URL"] = "memory://"
        os.environ["SMS_BACKEND"] = "locmem"
    os.environ.update(env)
    import django

    django.setup()
    if quiet:
        logging.disable(logging.WARNING)
    if migrate:
        from django.core.management import call_command

        call_command("migrate", *([migrate] if isinstance(migrate, str) else []), verbosity=0)
