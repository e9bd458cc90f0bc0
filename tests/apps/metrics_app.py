"""An app for the metrics tests: one path per status.

/         200 "ok"
/missing  404
/fail     500, answered by the app itself
/raise    raises before start_response (corn answers 500)
"""


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/raise":
        raise RuntimeError("the app failed on purpose")
    status = {"/missing": "404 Not Found", "/fail": "500 Internal Server Error"}.get(path, "200 OK")
    body = status.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
