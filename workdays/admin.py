from django.contrib import admin

from workdays.models import HolidayOverride


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "note", "updated_at")
    list_filter = ("is_workday",)
    search_fields = ("note",)
    date_hierarchy = "date"
