"""The django-json view: `JsonResponse` of the shared small dict, no database access."""

from django.http import JsonResponse

from perf.frameworks import MESSAGE


def json_view(request):
    return JsonResponse(MESSAGE)
