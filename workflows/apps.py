from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"
    verbose_name = _("办件")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from workflows import notify

        notify.register_templates()

        from workflows.ledger_sources import register_sources

        register_sources()

        from accounts.models import User

        def _claim(sender: type, instance: User, update_fields: frozenset[str] | None = None, **kwargs: object) -> None:
            # accounts sits below workflows and cannot call it: when a citizen's real name is bound
            # (first SMS login, or an admin edit), cases received for them at a window become theirs.
            if update_fields is not None and not {"id_number_hash", "phone", "id_verified_at"} & set(update_fields):
                return
            from workflows.actions import claim_window_cases

            claim_window_cases(citizen=instance)

        post_save.connect(_claim, sender=User, weak=False, dispatch_uid="workflows-claim-window-cases")

        from accounts import realname

        def _window_record(phone: str, id_hash: str) -> realname.Verdict:
            from workflows.actions import window_record_verdict

            return window_record_verdict(phone, id_hash)

        # A clerk who checked an ID card for a case and recorded a phone is evidence for binding.
        realname.register_record_source(_window_record)

        from ledger import access as ledger_access

        def _may_read_case(user: User, number: str) -> bool:
            from workflows.selectors import case_for

            return case_for(user, number) is not None

        # A case's ledger chain (events, material digests, consents) is read in the case's scope.
        ledger_access.register("case", _may_read_case)
