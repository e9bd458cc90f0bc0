"""basic.app, except that a request carrying `X-Marker: PATH` first creates the file PATH, so a
test can tell (without sleeping) that the worker is handling it."""

from basic import app as basic_app


def app(environ, start_response):
    marker = environ.get("HTTP_X_MARKER")
    if marker:
        with open(marker, "w"):
            pass
    return basic_app(environ, start_response)
