"""The embedded default: SQLite, in-memory channel layer, eager Celery, console/file SMS."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A fixed development key is fine here: local settings never serve the public.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="tongban-local-development-key-not-for-production")
SMS_BACKEND = env("SMS_BACKEND", default="file")
# The demo data and `manage.py load_demo` (top layer; production installs it only with TONGBAN_DEMO=1).
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]
