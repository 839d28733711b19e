from django.urls import path

from floor import views

urlpatterns = [
    path("floor/cases/", views.CasesView.as_view()),
    path("floor/cases/<int:pk>/transitions/<str:name>/", views.TransitionView.as_view()),
]
