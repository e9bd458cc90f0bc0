"""The Django project's one route: `GET /json` (django-json)."""

from django.urls import path

from perf.frameworks.django_project import views

urlpatterns = [
    path("json", views.json_view),
]
