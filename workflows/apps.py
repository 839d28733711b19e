from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"
    verbose_name = _("办件")

    def ready(self) -> None:
        from accounts import extensions as accounts
        from accounts import realname
        from accounts.models import User
        from ledger import extensions as ledger
        from workflows import notify

        notify.register_templates()

        from workflows.ledger_sources import register_sources

        register_sources()

        def _claim(*, user: User) -> None:
            # When a citizen's real name is bound (first SMS login, a window, an admin edit), the
            # cases received for them at a window become theirs, in the same transaction.
            from workflows.actions import claim_window_cases

            claim_window_cases(citizen=user)

        accounts.identity_changed.register(_claim)

        def _window_record(phone: str, id_hash: str) -> realname.Verdict:
            from workflows.actions import window_record_verdict

            return window_record_verdict(phone, id_hash)

        # A clerk who checked an ID card for a case and recorded a phone is evidence for binding.
        accounts.identity_record_sources.register(_window_record)

        def _may_read_case(user: User, number: str) -> bool:
            from workflows.selectors import case_for

            return case_for(user, number) is not None

        # A case's ledger chain (events, material digests, consents) is read in the case's scope.
        ledger.subject_access.register(_may_read_case, key="case")
