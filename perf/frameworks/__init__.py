"""The framework apps of the end-to-end benchmarks (perf/e2e.py): Flask and Django, served alike.

This module imports no framework: it holds what the apps answer, so the runner can check each
server's response bytes without importing Flask or Django itself.

- `flask_app:app`: `GET /json` (flask-json) answers `jsonify(MESSAGE)`; `POST /form` (flask-form)
  parses the 4 KiB urlencoded FORM_BODY (150 fields) from `request.form` and answers its field count and the
  total length of the decoded names and values.
- `django_project.wsgi:application`: `GET /json` (django-json) answers `JsonResponse(MESSAGE)`, through
  the middleware `django-admin startproject` sets up, with no database.
"""

import json
from urllib.parse import parse_qsl, quote_plus

MESSAGE = {"message": "Hello, World!", "id": 1, "ok": True}
FORM_SIZE = 4096  # bytes of the body wrk posts in the flask-form scenario


def form_body(size=FORM_SIZE):
    """As many urlencoded fields as fit in `size` bytes, their values with escapes (`+`, `%XX`);
    the last value padded so the body is exactly `size` bytes."""
    pairs = []
    while len("&".join(pairs + [form_pair(len(pairs))])) <= size:
        pairs.append(form_pair(len(pairs)))
    body = "&".join(pairs)
    return (body + "x" * (size - len(body))).encode("ascii")


def form_pair(i):
    return f"field{i:03d}={quote_plus(f'value {i} & more')}"


def compact_json(data):
    """JSON as Flask's jsonify writes it outside debug mode: sorted keys, no spaces, a newline."""
    return (json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n").encode()


def form_summary(pairs):
    """What the flask-form view answers about the parsed (name, value) pairs."""
    return {"fields": len(pairs), "length": sum(len(name) + len(value) for name, value in pairs)}


FORM_BODY = form_body()
FLASK_JSON_BODY = compact_json(MESSAGE)
DJANGO_JSON_BODY = json.dumps(MESSAGE).encode()  # JsonResponse: json.dumps's default separators
FLASK_FORM_BODY = compact_json(form_summary(parse_qsl(FORM_BODY.decode("ascii"), keep_blank_values=True)))
