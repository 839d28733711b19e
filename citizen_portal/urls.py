from django.urls import URLPattern, URLResolver, path

from citizen_portal import booking_views, views, zone_views

app_name = "citizen_portal"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("items/", views.items, name="items"),
    path("items/<str:code>/", views.item_detail, name="item"),
    path("sites/<str:key>/", views.city_site, name="city"),
    path("zones/<str:code>/", zone_views.zone, name="zone"),
    path("policies/<int:pk>/", zone_views.policy, name="policy"),
    # 查询服务 (linked from every zone)
    path("query/case/", zone_views.query_case, name="query-case"),
    path("query/case/<str:number>/status.json", zone_views.query_case_status, name="query-case-status"),
    path("query/verify/", zone_views.query_verify, name="query-verify"),
    path("query/queue/", zone_views.query_queue, name="query-queue"),
    path("prefs/", views.set_prefs, name="prefs"),
    path("help/", views.help_page, name="help"),
    path("help/privacy/", views.privacy, name="privacy"),
    # Applying online (citizens)
    path("apply/halls.json", views.delivery_halls_json, name="apply-halls"),
    path("apply/<str:code>/", views.apply, name="apply"),
    # 我的办件: tracking, materials, corrections, receipt, withdrawal
    path("my/cases/", views.my_cases, name="my-cases"),
    path("my/cases/<str:number>/", views.my_case, name="my-case"),
    path("my/cases/<str:number>/status.json", views.my_case_status, name="my-case-status"),
    path("my/cases/<str:number>/live/", views.my_case_live, name="my-case-live"),
    path("my/cases/<str:number>/materials/", views.my_case_material, name="my-case-material"),
    path("my/cases/<str:number>/<str:action>/", views.my_case_action, name="my-case-action"),
    # 预约办事 and 远程取号
    path("book/", booking_views.book, name="book"),
    path("book/<str:code>/", booking_views.book_hall, name="book-hall"),
    path("book/<str:code>/ticket/", booking_views.take_ticket, name="take-ticket"),
    path("my/appointments/", booking_views.my_appointments, name="my-appointments"),
    path("my/appointments/<int:pk>/cancel/", booking_views.cancel_appointment, name="cancel-appointment"),
    path("my/tickets/<int:pk>/", booking_views.my_ticket, name="my-ticket"),
    # 我的电子证照
    path("my/licences/", views.my_licences, name="my-licences"),
]
