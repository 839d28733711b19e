from django.contrib import admin

from workflows.models import Case, CaseEvent, CorrectionNotice
from workflows.results import Result


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ("seq", "transition", "from_state", "to_state", "actor", "actor_label", "at", "payload")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    # Read-only: a case only changes through its workflow actions (the state field is protected).
    list_display = ("number", "item", "mode", "state", "authority", "receiving_hall", "sla_status", "created_at")
    list_filter = ("state", "mode", "sla_status", "cross_region")
    search_fields = ("number",)
    inlines = [CaseEventInline]
    readonly_fields = [f.name for f in Case._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by workflow actions (each with its ledger entry): the admin may look,
    never add, edit or delete. A hand-made notice or result would bypass the state machine, the
    signature and the tamper-evident log; a result is revoked through its revoke action."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(CorrectionNotice)
class CorrectionNoticeAdmin(ReadOnlyAdmin):
    list_display = ("case", "issued_at", "from_state", "resolved_at")
    search_fields = ("case__number",)


@admin.register(Result)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "issuing_department", "issued_at", "revoked_at")
    list_filter = ("result_type",)
    search_fields = ("number",)
    exclude = ("holder_id_protected",)
