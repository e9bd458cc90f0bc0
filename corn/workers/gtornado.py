"""The tornado worker: tornado's IOLoop holds the connections; a tornado app is served by tornado.

Two kinds of app, as with gunicorn's `-k tornado`:
- A tornado `Application` (or a `tornado.wsgi.WSGIContainer`) is served natively by tornado's
  `HTTPServer` on the worker's listeners: tornado parses the requests and runs the handlers on the
  IOLoop. Its access log is tornado's (`tornado.access`); corn's request hooks and metrics do not
  see these requests. `keepalive` bounds an idle connection, `max_requests` is counted per request.
- Any other WSGI app is served by corn's compiled request cycle, with the same WSGI behaviour as
  every other corn worker (tornado's WSGIContainer gets much of PEP 3333 wrong): the IOLoop
  accepts, and watches every connection that waits for a request's first bytes, without a thread;
  a connection with bytes to read runs the request cycle in a pool of `threads` threads (one by
  default, so the app runs one request at a time, as under WSGIContainer). It is the gthread
  worker with tornado's IOLoop in place of its epoll loop: the same deadlines, `worker_connections`
  cap, TLS and drain.

The heartbeat is a PeriodicCallback on the IOLoop (a blocked loop stops it, and the master's
timeout then logs every thread's stack). TERM, HUP and max_requests stop accepting and let the
connections finish within `graceful_timeout` (responses say `Connection: close` from then on);
QUIT and INT within QUICK_DRAIN seconds. Signals wake the IOLoop through the worker's pipe.
"""

import asyncio
import time

from corn.workers.gthread import HEARTBEAT_TICK, PARKED_TICK, QUICK_DRAIN, ThreadWorker

DRAIN_POLL = 0.05  # seconds between checks of the connections while draining


def is_tornado_app(app):
    """Does tornado itself serve `app` (an Application, or a WSGIContainer the user built)?"""
    from tornado.web import Application
    from tornado.wsgi import WSGIContainer

    return isinstance(app, (Application, WSGIContainer))


class TornadoWorker(ThreadWorker):
    def init_process(self):
        from tornado.ioloop import IOLoop

        asyncio.set_event_loop(asyncio.new_event_loop())
        self.ioloop = IOLoop.current()
        self.server = None  # tornado's HTTPServer, for a tornado app
        self.native_requests = 0  # requests tornado began (a tornado app)
        self.in_flight = set()  # of those, the HTTP1Connections not yet answered
        self.drain_deadline = None  # monotonic time the drain ends at the latest, once stopping
        super().init_process()

    @property
    def nr(self):
        return self.native_requests if self.server is not None else super().nr

    def run(self):
        from tornado.ioloop import IOLoop, PeriodicCallback

        self.ioloop.add_handler(self.wakeup.fd, self.on_wake, IOLoop.READ)
        if is_tornado_app(self.wsgi):
            self.serve_natively()
        else:
            for listener, handler in zip(self.sockets, self.handlers):
                listener.sock.setblocking(False)
                self.listeners[listener.sock.fileno()] = (listener.sock, handler)
            self.start_accepting()
            self.start_pool()
            PeriodicCallback(self.after_events, PARKED_TICK * 1000).start()
        PeriodicCallback(self.tick, HEARTBEAT_TICK * 1000).start()
        self.ioloop.start()
        self.stop_pool()

    def tick(self):
        self.heartbeat()
        if not self.parent_alive():
            self.alive = False
        if not self.alive:
            self.begin_drain()

    def on_wake(self, fd, events):
        self.wakeup.drain()
        if self.server is None:
            self.after_events()
        if not self.alive:
            self.begin_drain()

    def begin_drain(self):
        """Once stopping: stop accepting, then end the IOLoop when the connections are done."""
        if self.drain_deadline is not None:
            return
        from tornado.ioloop import PeriodicCallback

        self.drain_deadline = time.monotonic() + self.cfg.graceful_timeout
        if self.server is not None:
            self.server.stop()  # closes this process's listening sockets
            # responses from now on close their connection; tornado decided for the requests in
            # flight as their heads came in, so they are told too
            self.server.conn_params.no_keep_alive = True
            for request_conn in self.in_flight:
                request_conn._disconnect_on_finish = True
        elif self.listeners:
            self.close_listeners()
        PeriodicCallback(self.check_drained, DRAIN_POLL * 1000).start()
        self.check_drained()

    def check_drained(self):
        if self.drain_over(self.drain_deadline):
            self.ioloop.stop()

    def drain_over(self, deadline):
        if self.server is None:
            return super().drain_over(deadline)
        now = time.monotonic()
        return (not self.in_flight or now >= deadline
                or (self.quick_since is not None and now >= self.quick_since + QUICK_DRAIN))

    # --- a WSGI app: the compiled request cycle, idle connections on the IOLoop ----------

    def watch_listener(self, fd):
        from tornado.ioloop import IOLoop

        self.ioloop.add_handler(fd, self.on_listener, IOLoop.READ)

    def unwatch_listener(self, fd):
        self.ioloop.remove_handler(fd)

    def on_listener(self, fd, events):
        entry = self.listeners.get(fd)
        if entry is not None:
            self.accept(*entry)
        self.update_accepting()

    def park(self, handler, conn, context):
        """From a pool thread: the IOLoop takes the connection over in its own thread."""
        self.ioloop.add_callback(super().park, handler, conn, context)

    def watch_parked(self, fd):
        from tornado.ioloop import IOLoop

        self.ioloop.add_handler(fd, self.on_parked, IOLoop.READ)

    def unwatch_parked(self, fd):
        self.ioloop.remove_handler(fd)

    def on_parked(self, fd, events):
        self.ioloop.remove_handler(fd)
        self.readable(fd)

    # --- a tornado app, served by tornado ------------------------------------------------

    def serve_natively(self):
        from tornado.httpserver import HTTPServer
        from tornado.httputil import HTTPMessageDelegate

        worker = self

        class Counted(HTTPMessageDelegate):
            """The app's delegate for one request, told to the worker when the request's head came
            (tornado starts a request on a kept-alive connection before its first byte)."""

            def __init__(self, delegate, request_conn):
                self.delegate = delegate
                self.request_conn = request_conn

            def headers_received(self, start_line, headers):
                worker.native_request_began(self.request_conn)
                return self.delegate.headers_received(start_line, headers)

            def data_received(self, chunk):
                return self.delegate.data_received(chunk)

            def finish(self):
                return self.delegate.finish()

            def on_connection_close(self):
                return self.delegate.on_connection_close()

        class Server(HTTPServer):
            def start_request(self, server_conn, request_conn):
                return Counted(super().start_request(server_conn, request_conn), request_conn)

        keepalive = self.cfg.keepalive
        self.server = Server(
            self.wsgi,
            ssl_options=self.tls.context if self.tls is not None else None,
            no_keep_alive=keepalive <= 0,
            idle_connection_timeout=keepalive if keepalive > 0 else None,
        )
        for listener in self.sockets:
            listener.sock.setblocking(False)
        self.server.add_sockets([listener.sock for listener in self.sockets])

    def native_request_began(self, request_conn):
        self.native_requests += 1
        # resolves once the response is flushed, or the connection closed before that
        finished = getattr(request_conn, "_finish_future", None)
        if finished is not None:
            self.in_flight.add(request_conn)
            finished.add_done_callback(lambda _: self.in_flight.discard(request_conn))
        if self.max_requests and self.native_requests == self.max_requests:
            self.last_request_began()
