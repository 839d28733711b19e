from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "licences"
    verbose_name = _("证照与结果")

    def ready(self) -> None:
        from django.core import checks
        from django.core.signals import setting_changed
        from django_fsm.signals import post_transition

        from licences import keys, receivers
        from licences.checks import check_signing_key, check_verify_base_url
        from licences.ledger_sources import register_sources
        from workflows.models import Case
        from workflows.results import Result, result_issued

        checks.register(check_signing_key, "licences")
        checks.register(check_verify_base_url, "licences")
        # Rendering and signing happen after the issuing transaction commits (workflows sends it then).
        result_issued.connect(receivers.on_result_issued, sender=Result, dispatch_uid="licences-render")
        # django-fsm announces every transition; a delivered case files its results into the library.
        post_transition.connect(receivers.on_case_transition, sender=Case, dispatch_uid="licences-delivered")
        setting_changed.connect(receivers.on_setting_changed, dispatch_uid="licences-keys")
        register_sources()
        from licences import consent

        consent.register_templates()
        del keys

        from licences.hooks import LicencesMaterialReuse, LicencesPrintStock
        from workflows import hooks as workflow_hooks

        workflow_hooks.register_material_reuse(LicencesMaterialReuse())
        workflow_hooks.register_print_stock(LicencesPrintStock())
