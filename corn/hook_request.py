"""The request object the `pre_request` and `post_request` hooks receive.

Built only when one of those hooks is set (the compiled handler skips it otherwise), with the
attribute names of gunicorn's `gunicorn.http.message.Request`, so existing hooks keep working.

Plane: data (per request; imports only the data plane and the shared modules).
"""


class HookRequest:
    __slots__ = ("method", "uri", "path", "query", "fragment", "version", "headers", "scheme",
                 "peer_addr", "remote_addr", "req_number")

    def __init__(self, method, uri, path, query, fragment, version, headers, scheme, peer_addr, req_number):
        self.method = method
        self.uri = uri
        self.path = path
        self.query = query
        self.fragment = fragment
        self.version = version
        self.headers = headers
        self.scheme = scheme
        self.peer_addr = peer_addr
        self.remote_addr = peer_addr
        self.req_number = req_number

    def __repr__(self):
        return f"<HookRequest {self.method} {self.uri}>"
