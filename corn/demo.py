"""corn's built-in demo app: `corn corn.demo:app`.

/         an HTML page showing what the server received: method, path, query, headers, worker pid
/json     the same facts as JSON
/stream   a streamed response (no Content-Length: chunked on HTTP/1.1), ten lines
/echo     the request body back (POST or PUT)

Plane: control.
"""

import html
import json
import os

from corn import SERVER_SOFTWARE


def _facts(environ):
    return {
        "server": SERVER_SOFTWARE,
        "worker_pid": os.getpid(),
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "protocol": environ["SERVER_PROTOCOL"],
        "remote_addr": environ.get("REMOTE_ADDR", ""),
        "scheme": environ["wsgi.url_scheme"],
        "headers": {
            key[5:].replace("_", "-").title(): value for key, value in sorted(environ.items()) if key.startswith("HTTP_")
        } | {name: environ[key] for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length"))
             if key in environ},
    }


def _page(facts):
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items() if k != "headers"
    )
    headers = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts["headers"].items()
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>corn</title></head><body>"
        f"<h1>Hello from corn</h1><p>This page shows what worker {facts['worker_pid']} received.</p>"
        f"<table>{rows}</table><h2>Headers</h2><table>{headers}</table>"
        "<p>Try <a href='/json'>/json</a> and <a href='/stream'>/stream</a>.</p></body></html>"
    ).encode("utf-8")


def _stream():
    for i in range(10):
        yield f"line {i}\n".encode()


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/json":
        body = json.dumps(_facts(environ), indent=2).encode() + b"\n"
        content_type = "application/json"
    elif path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return _stream()
    elif path == "/echo":
        body = environ["wsgi.input"].read()
        content_type = environ.get("CONTENT_TYPE") or "application/octet-stream"
    elif path == "/":
        body = _page(_facts(environ))
        content_type = "text/html; charset=utf-8"
    else:
        body = b"Not Found\n"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
