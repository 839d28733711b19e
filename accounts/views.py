"""Login pages: staff by password (django-axes guards it), citizens by SMS code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import actions, twofactor
from accounts.devices import device_id, ensure_device, set_device_cookie
from accounts.models import Role, User
from config.client_ip import client_ip


class StaffLoginForm(AuthenticationForm):
    """Password, then — for approvers, supervisors and admins — the authenticator's one-time code
    (or a recovery code). See accounts.twofactor for when it is required."""

    otp_token = forms.CharField(
        label=_("动态口令"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and isinstance(user, User):
            try:
                ok = twofactor.check(user, cleaned.get("otp_token")) if twofactor.needs_second_factor(user) else True
            except twofactor.SecondFactorMissing:
                raise forms.ValidationError(
                    _("该账户须先绑定动态口令（身份验证器）才能登录，请联系系统管理员。"), code="no_second_factor"
                ) from None
            if not ok:
                raise forms.ValidationError(_("动态口令错误或已使用，请重新输入。"), code="bad_second_factor")
        return cleaned


class StaffLoginView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = StaffLoginForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if isinstance(user, User) and user.is_staff_role:
            # A working day, not Django's two weeks: staff sessions open personal data.
            self.request.session.set_expiry(settings.STAFF_SESSION_SECONDS)
        return response

    def get_default_redirect_url(self) -> str:
        # Without ?next=, staff land on their workbench (which forwards by role), not on the
        # citizens' home page; a citizen who signs in here still goes home.
        user = self.request.user
        if getattr(user, "role", "") and user.role != Role.CITIZEN:  # type: ignore[union-attr]
            return "/workbench/"
        return super().get_default_redirect_url()


@require_http_methods(["GET", "POST"])
def sms_login(request: HttpRequest) -> HttpResponse:
    ctx: dict[str, object] = {"phone": request.POST.get("phone", ""), "name": request.POST.get("name", "")}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "send":
                actions.request_otp(
                    phone=request.POST.get("phone", ""), ip=client_ip(request), device=ensure_device(request)
                )
                ctx["sent"] = True
            else:
                user, _token = actions.verify_otp(
                    phone=request.POST.get("phone", ""),
                    code=request.POST.get("code", ""),
                    name=request.POST.get("name"),
                    id_number=request.POST.get("id_number"),
                    device=device_id(request),
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("登录成功。"))
                nxt = request.GET.get("next", "/")
                if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                    nxt = "/"
                return redirect(nxt)
        except actions.RateLimited as exc:
            ctx["error"] = str(exc)
            return set_device_cookie(request, render(request, "accounts/sms_login.html", ctx, status=429))
        except ValidationError as exc:
            ctx["error"] = "；".join(exc.messages)
            return set_device_cookie(request, render(request, "accounts/sms_login.html", ctx, status=400))
    return set_device_cookie(request, render(request, "accounts/sms_login.html", ctx))
