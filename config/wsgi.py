"""WSGI entry point: production HTTP through gunicorn's threaded workers (README § Production).

WebSockets are served by the ASGI app (config.asgi) under uvicorn; the proxy routes /ws/ there.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

# Import every URL module now, at worker start, as config.asgi does: otherwise each fresh worker's
# first request pays for it.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
