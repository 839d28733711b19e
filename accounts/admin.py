from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import tokens
from accounts.models import OtpCode, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "real_name", "role", "region", "department", "masked_phone", "is_active")
    list_filter = ("role", "is_active", "id_needs_review")
    search_fields = ("username", "real_name", "phone")
    readonly_fields = ("masked_id", "id_needs_review", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("身份"), {"fields": ("real_name", "phone", "applicant_type", "masked_id", "id_needs_review")}),
        (_("角色与管辖"), {"fields": ("role", "region", "department")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    raw_id_fields = ("region", "department")
    actions = ["revoke_tokens"]

    @admin.action(description=_("吊销所选用户的 API 令牌"))
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = sum(tokens.revoke(user) for user in queryset)
        self.message_user(request, _("已吊销 %(n)s 个令牌。") % {"n": count})

    @admin.display(description=_("证件号码"))
    def masked_id(self, obj: User) -> str:
        return obj.id_number_masked

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: User) -> str:
        return obj.phone_masked


@admin.register(OtpCode)
class OtpCodeAdmin(admin.ModelAdmin):
    list_display = ("phone", "created_at", "expires_at", "attempts", "used_at")
    readonly_fields = ("phone", "code_hash", "requested_ip", "created_at", "expires_at", "attempts", "used_at")
    search_fields = ("phone",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
