"""Real Flask and Django apps served by corn, exercised over HTTP."""

import json
import os
import uuid

import pytest
from conftest import APPS_DIR, http_request

pytestmark = pytest.mark.usefixtures("worker_class")


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="function")
def flask_server(corn_server):
    return corn_server("flask_app:app", "-w", "2")


def test_flask_routes(flask_server):
    assert http_request(flask_server.port, "GET", "/").body == b"flask says hi"
    resp = http_request(flask_server.port, "POST", "/json", ["Content-Type: application/json"], b'{"a": [1, 2]}')
    assert json.loads(resp.body) == {"received": {"a": [1, 2]}, "method": "POST"}


def test_flask_upload_stream_and_cookies(flask_server):
    content = bytes(range(256)) * 4000
    body, ctype = multipart({"field": "v"}, {"file": ("data.bin", content)})
    resp = http_request(flask_server.port, "POST", "/upload", [f"Content-Type: {ctype}"], body)
    assert json.loads(resp.body) == {"name": "data.bin", "size": len(content), "field": "v"}
    resp = http_request(flask_server.port, "GET", "/stream")
    assert resp.header("transfer-encoding") == "chunked"
    assert resp.body == b"0\n1\n2\n3\n4\n"
    resp = http_request(flask_server.port, "GET", "/cookie", ["Cookie: c=from-client"])
    assert json.loads(resp.body) == {"seen": "from-client"}
    assert "c=set-by-flask" in resp.header("set-cookie")


def test_flask_url_for_is_https_behind_a_trusted_proxy(flask_server):
    resp = http_request(flask_server.port, "GET", "/url", ["X-Forwarded-Proto: https"])
    assert resp.body == b"https://127.0.0.1/"
    resp = http_request(flask_server.port, "GET", "/url")
    assert resp.body == b"http://127.0.0.1/"


def test_django_views(corn_server):
    server = corn_server("django_app", "-w", "1")
    resp = http_request(server.port, "GET", "/")
    assert resp.status == 200 and resp.body.startswith(b"django says hi")
    resp = http_request(server.port, "POST", "/post", ["Content-Type: application/x-www-form-urlencoded"], b"name=corn")
    assert json.loads(resp.body) == {"method": "POST", "name": "corn", "path": "/post"}
    content = b"x" * 100000
    body, ctype = multipart({}, {"file": ("big.txt", content)})
    resp = http_request(server.port, "POST", "/upload", [f"Content-Type: {ctype}"], body)
    assert json.loads(resp.body) == {"name": "big.txt", "size": len(content)}
    resp = http_request(server.port, "GET", "/stream")
    assert resp.body == b"part 0\npart 1\npart 2\npart 3\n"
    resp = http_request(server.port, "GET", "/download")
    with open(os.path.join(APPS_DIR, "django_app.py"), "rb") as f:
        assert resp.body == f.read()
    assert resp.header("content-type") == "text/x-python"
