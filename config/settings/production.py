"""Production: everything from the environment; refuses to start when unsafe.

`DJANGO_SETTINGS_MODULE=config.settings.production manage.py check --deploy` must report nothing.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, INSTALLED_APPS, SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is too weak for production (at least 50 random characters).")
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")

# The demo data (`manage.py load_demo`) is not part of a real deployment. Only a deliberately
# demo-configured production stack asks for it: the fault drill (bench/stack.py) and benchmarks
# that load the demo into a server running these settings.
if env.bool("TONGBAN_DEMO", default=False):
    INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

# Result signing: never generate a key here, and never start with one that was generated elsewhere
# (a development key copied along with var/ would sign certificates nobody can trust).
RESULT_SIGNING_AUTOGENERATE = False
if env.bool("RESULT_SIGNING_AUTOGENERATE", default=False):
    raise ImproperlyConfigured("RESULT_SIGNING_AUTOGENERATE must be off in production.")
_keys_dir = Path(env("RESULT_SIGNING_KEYS_DIR", default=str(BASE_DIR / "var" / "keys")))
_dev_keys = (
    sorted(p.name for p in _keys_dir.glob("*.key") if p.with_suffix(".dev").exists()) if _keys_dir.is_dir() else []
)
if _dev_keys:
    raise ImproperlyConfigured(
        f"Automatically generated development signing key(s) in {_keys_dir}: {', '.join(_dev_keys)}. "
        "Remove them and configure a real key (manage.py create_signing_key or RESULT_SIGNING_KEY)."
    )

# HTTPS only: redirect, HSTS (a year, subdomains, preload-ready), secure cookies.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The load balancer's health probe comes over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=True)
# Our reverse proxy on the same host by default; set TRUSTED_PROXIES to the load balancers' CIDRs.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"])

# Staff: two factors (accounts.twofactor) and short sessions.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=True)
