from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ratings"
    verbose_name = _("好差评")

    def ready(self) -> None:
        from halls.hall_stats import register_rating_provider
        from ratings.selectors import hall_rating_stats

        # The hall API, nearest halls and the map's GeoJSON read ratings through this hook
        # (halls is a lower layer and never imports ratings).
        register_rating_provider(hall_rating_stats)
