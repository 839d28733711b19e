"""The geographic core: administrative regions (GB/T 2260 adcodes) with WGS-84 boundaries.

This module is the lowest layer of the project: it never imports another app of ours.
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市（州）")
    COUNTY = "county", _("县（市、区）")


class Region(models.Model):
    adcode = models.CharField(_("行政区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=16, choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Simplified boundary as a GeoJSON geometry (Polygon / MultiPolygon), WGS-84 lon/lat.
    # Stored as JSON so the embedded SQLite default needs no spatial extension.
    boundary = models.JSONField(_("边界"), null=True, blank=True)
    # A point guaranteed inside the boundary (shapely's representative_point), WGS-84.
    lat = models.FloatField(_("代表点纬度"), null=True, blank=True)
    lon = models.FloatField(_("代表点经度"), null=True, blank=True)
    area_km2 = models.FloatField(_("面积（平方公里）"), null=True, blank=True)
    source = models.CharField(_("数据来源"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["adcode"]

    def __str__(self) -> str:
        return f"{self.name}（{self.adcode}）"


def _region_changed(**_kwargs: object) -> None:
    # The point → county index (govmap.geo) caches polygons per process; a region written here
    # invalidates it everywhere once the write is committed. Bulk writes go through
    # govmap.loaders.upsert_regions, which invalidates explicitly.
    from govmap.geo import invalidate_county_index

    transaction.on_commit(invalidate_county_index)


post_save.connect(_region_changed, sender=Region, dispatch_uid="govmap.region.saved")
post_delete.connect(_region_changed, sender=Region, dispatch_uid="govmap.region.deleted")
