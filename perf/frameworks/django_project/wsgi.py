"""The Django project's WSGI callable, `application`, as `django-admin startproject` writes it."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perf.frameworks.django_project.settings")

application = get_wsgi_application()
