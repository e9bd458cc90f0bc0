"""A real Django project in one file: a view, a POST, a form upload, a streamed response, and a
view that blocks in C as a database driver would (/blocking: it reports the most requests it saw
inside it at once)."""

import ctypes
import os
import threading

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


blocking_lock = threading.Lock()
blocking_now = 0
blocking_most = 0


def blocking(request):
    global blocking_now, blocking_most
    with blocking_lock:
        blocking_now += 1
        blocking_most = max(blocking_most, blocking_now)
    try:
        ctypes.CDLL(None).usleep(1500000)
    finally:
        with blocking_lock:
            blocking_now -= 1
    return JsonResponse({"most_at_once": blocking_most})


def stream(request):
    return StreamingHttpResponse((f"part {i}\n" for i in range(4)), content_type="text/plain")


def download(request):
    return FileResponse(open(__file__, "rb"), content_type="text/x-python")


urlpatterns = [
    path("", index), path("post", post), path("upload", upload), path("stream", stream),
    path("download", download), path("blocking", blocking),
]

application = get_wsgi_application()
