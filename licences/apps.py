from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "licences"
    verbose_name = _("证照与结果")

    def ready(self) -> None:
        from django.core import checks
        from django.core.signals import setting_changed

        from licences import keys, receivers
        from licences.checks import check_signing_key, check_verify_base_url
        from licences.ledger_sources import register_sources
        from workflows import extensions as workflow

        checks.register(check_signing_key, "licences")
        checks.register(check_verify_base_url, "licences")
        # Both after the workflow's transaction committed (docs/EXTENSIONS.md): render and sign an
        # issued result; file a delivered case's results into the holder's e-licence library.
        workflow.result_issued.register(receivers.on_result_issued)
        workflow.case_delivered.register(receivers.on_case_delivered)
        # Django's own signal, for tests that override the signing keys.
        setting_changed.connect(receivers.on_setting_changed, dispatch_uid="licences-keys")
        register_sources()
        from licences import consent

        consent.register_templates()
        del keys

        from licences.hooks import LicencesMaterialReuse, LicencesPrintStock

        workflow.material_reuse.register(LicencesMaterialReuse())
        workflow.print_stock.register(LicencesPrintStock())
