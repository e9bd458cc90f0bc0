"""Records every call into the app (one line per request in $CORN_TEST_RECORD), then answers 200.

Used to prove that refused requests never reach the application.
"""

import os


def app(environ, start_response):
    body = environ["wsgi.input"].read()
    with open(os.environ["CORN_TEST_RECORD"], "a") as f:
        f.write(f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {len(body)}\n")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
