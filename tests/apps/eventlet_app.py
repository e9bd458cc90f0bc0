"""A WSGI app for the eventlet worker: what it finds when imported, and green threads of its own.

At import it records whether eventlet had patched the standard library already (the worker must
patch before the app is imported, or the app's module-level sockets and locks would block the hub).

/patched   "socket=True thread=True time=True" as found at import
/spawn     spawns a green thread that hands back a value through an eventlet Event
"""

import eventlet
import eventlet.event
from eventlet import patcher

PATCHED_AT_IMPORT = {name: patcher.is_monkey_patched(name) for name in ("socket", "thread", "time")}


def app(environ, start_response):
    if environ["PATH_INFO"] == "/patched":
        body = " ".join(f"{name}={value}" for name, value in PATCHED_AT_IMPORT.items()).encode()
    else:
        done = eventlet.event.Event()
        eventlet.spawn_after(0.01, done.send, b"from a green thread")
        body = done.wait()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
