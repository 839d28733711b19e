"""Test settings: the same code paths as production, with fast hashing and locmem SMS."""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="tongban-test-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = env("SMS_BACKEND", default="locmem")
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True

# Tests run tasks eagerly unless a test deliberately talks to a real broker and worker
# (tests marked `broker` switch this off and start a worker process themselves).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default="") or "memory://")

# Each pytest-xdist worker is its own process: keep their cache keys apart on a shared Redis.
CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
