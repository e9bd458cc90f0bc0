"""A real Django project in one file: a view, a POST, a form upload, a streamed response."""

import os

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="test-only-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


def index(request):
    return HttpResponse(f"django says hi from {os.getpid()}")


@csrf_exempt
def post(request):
    return JsonResponse({"method": request.method, "name": request.POST.get("name"), "path": request.path})


@csrf_exempt
def upload(request):
    f = request.FILES["file"]
    return JsonResponse({"name": f.name, "size": len(f.read())})


def stream(request):
    return StreamingHttpResponse((f"part {i}\n" for i in range(4)), content_type="text/plain")


def download(request):
    return FileResponse(open(__file__, "rb"), content_type="text/x-python")


urlpatterns = [
    path("", index), path("post", post), path("upload", upload), path("stream", stream), path("download", download),
]

application = get_wsgi_application()
