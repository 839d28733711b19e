from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, path

from accounts import api, identity_api, views

app_name = "accounts"
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/auth/token/", api.StaffTokenView.as_view(), name="token"),
    path("api/v1/auth/otp/", api.OtpRequestView.as_view(), name="otp"),
    path("api/v1/auth/otp/verify/", api.OtpVerifyView.as_view(), name="otp-verify"),
    path("api/v1/auth/me/", api.MeView.as_view(), name="me"),
    path("api/v1/identity/confirm/", identity_api.IdentityConfirmView.as_view(), name="identity-confirm"),
    path("api/v1/identity/claims/", identity_api.IdentityClaimListView.as_view(), name="identity-claims"),
    path("api/v1/auth/logout/", api.LogoutView.as_view(), name="api-logout"),
    path("accounts/login/", views.StaffLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("accounts/sms-login/", views.sms_login, name="sms-login"),
]
