from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ratings"
    verbose_name = _("好差评")

    def ready(self) -> None:
        from halls.extensions import rating_providers
        from ratings.selectors import hall_rating_stats

        # The hall API, nearest halls and the map's GeoJSON read ratings through this point
        # (halls is a lower layer and never imports ratings).
        rating_providers.register(hall_rating_stats)
