"""Root URLs. Each app's urls.py owns its full paths (API under api/v1/, pages at their own)."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.staticfiles.storage import staticfiles_storage
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.views import StaffLoginView
from config import health, metrics

admin.site.site_header = _("通办 · 贵州政务服务管理后台")
admin.site.site_title = _("通办管理后台")
admin.site.index_title = _("管理")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # Browsers ask for /favicon.ico on every page that names none; answer from the local static file.
    path("favicon.ico", RedirectView.as_view(url=staticfiles_storage.url("favicon.svg"), permanent=True)),
    # The admin signs in through the staff login page, so its second factor applies there too.
    path("admin/login/", StaffLoginView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's set-up as a script file: no inline script under the CSP;
    # Swagger UI (like ReDoc below) sets inline styles, which is all that is relaxed for them.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    # ReDoc styles itself with generated <style> blocks and parses in a blob: worker; scripts stay 'self'.
    path(
        "api/redoc/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="api-redoc",
    ),
    path("", include("accounts.urls")),
    path("", include("govmap.urls")),
    path("", include("services.urls")),
    path("", include("halls.urls")),
    path("", include("mapview.urls")),
    path("", include("notifications.urls")),
    path("", include("workflows.urls")),
    path("", include("ledger.urls")),
    path("", include("licences.urls")),
    path("", include("remote.urls")),
    path("", include("ratings.urls")),
    path("", include("citizen_portal.urls")),
]

# Unknown URLs and refusals under /api/ answer in the API's JSON error shape (pages keep theirs).
handler400 = "config.api_errors.bad_request"
handler403 = "config.api_errors.permission_denied"
handler404 = "config.api_errors.not_found"
