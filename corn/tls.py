"""TLS for the workers: one `SSLContext` per worker process, and the server side of accepted sockets.

Invariants:

- The context is built once per worker, after fork (under gevent, after monkey-patching, so the
  sockets it makes cooperate with the hub), by the `ssl_context(config, default_factory)` hook;
  never once per connection. A context that cannot be built stops the worker before it boots.
- The default factory follows gunicorn's: a server context with the certificate chain, the CA file
  when given, `cert_reqs` as the verify mode and `ciphers` when given. corn also refuses protocol
  versions older than TLS 1.2.
- Wrapping runs where the caller runs (under gevent, in the connection's own greenlet) and never
  raises for a client's fault: a handshake that fails, or stalls past its deadline, closes that
  connection, is logged at debug, and the worker goes on.
- With `do_handshake_on_connect` off (the default) the handshake happens on the first read, under
  the read deadline the connection handler sets; with it on, here, under `timeout` seconds.

Plane: control.
"""

import ssl

from corn.errors import ConfigError

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


def default_context(cfg):
    """The context the SSL settings describe (what the hook's `default_factory()` returns)."""
    if not cfg.certfile:
        raise ConfigError("keyfile is set but certfile is not: TLS needs a certificate (--certfile)")
    # Looked up at call time: under gevent the patched module hands out gevent's SSLContext.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    context.load_cert_chain(cfg.certfile, cfg.keyfile)
    if cfg.ca_certs:
        context.load_verify_locations(cafile=cfg.ca_certs)
    context.verify_mode = ssl.VerifyMode(cfg.cert_reqs)
    if cfg.ciphers:
        context.set_ciphers(cfg.ciphers)
    return context


def worker_context(cfg):
    """The worker's one context, through the `ssl_context` hook; None when TLS is off."""
    if not cfg.is_ssl:
        return None
    context = cfg.ssl_context(cfg, lambda: default_context(cfg))
    if not callable(getattr(context, "wrap_socket", None)):
        raise ConfigError(f"the ssl_context hook must return an ssl.SSLContext, not {type(context).__name__}")
    return context


def wrap(context, sock, do_handshake_on_connect=False, suppress_ragged_eofs=True, timeout=None):
    """Server-side TLS over an accepted socket.

    With `do_handshake_on_connect` the handshake happens now, bounded by `timeout` seconds (None:
    unbounded), and the socket's own timeout is restored afterwards. Raises OSError (`ssl.SSLError`,
    `TimeoutError`, a reset) when the handshake fails; `sock` is then the caller's to close.
    """
    previous = sock.gettimeout()
    if do_handshake_on_connect:
        sock.settimeout(timeout)
    tls_sock = context.wrap_socket(
        sock, server_side=True, do_handshake_on_connect=do_handshake_on_connect,
        suppress_ragged_eofs=suppress_ragged_eofs,
    )
    if do_handshake_on_connect:
        tls_sock.settimeout(previous)
    return tls_sock


class GeventContext:
    """Wraps with gevent's SSLSocket a context built from the standard library's class (a hook may
    have imported it before the worker patched `ssl`); its own sockets would block the whole hub."""

    def __init__(self, context):
        from gevent.ssl import SSLSocket

        self.context = context
        self.socket_class = SSLSocket

    def wrap_socket(self, sock, **options):
        # gevent.ssl.SSLContext.wrap_socket makes its sockets with exactly this call.
        return self.socket_class(sock=sock, _context=self.context, **options)


class WorkerTLS:
    """A worker's context and wrap options: accepted sockets in, TLS sockets out."""

    def __init__(self, context, cfg, log):
        self.context = context
        self.log = log
        self.do_handshake_on_connect = bool(cfg.do_handshake_on_connect)
        self.suppress_ragged_eofs = bool(cfg.suppress_ragged_eofs)
        self.timeout = float(cfg.timeout) if cfg.timeout > 0 else None

    def wrap(self, sock, addr):
        """The TLS socket over `sock`, or None when the handshake failed (`sock` is then closed)."""
        return self._wrap(sock, addr, self.do_handshake_on_connect)

    def wrap_lazily(self, sock, addr):
        """The TLS socket over `sock` with the handshake left to the first read, whatever
        do_handshake_on_connect says: nothing is sent or received here (the gthread worker wraps
        in its main thread and reads in a pool thread). None when wrapping failed."""
        return self._wrap(sock, addr, False)

    def _wrap(self, sock, addr, handshake_now):
        try:
            return wrap(self.context, sock, handshake_now, self.suppress_ragged_eofs, self.timeout)
        except (OSError, ValueError) as exc:
            peer = addr[0] if isinstance(addr, tuple) else "unix"
            self.log.debug("TLS handshake with %s failed: %s", peer, exc)
            try:
                sock.close()
            except OSError:
                pass
            return None

    def serving(self, handle):
        """`handle(sock, addr)` with the wrap first, so it runs in the greenlet spawned per connection."""

        def handle_tls(sock, addr):
            tls_sock = self.wrap(sock, addr)
            if tls_sock is not None:
                handle(tls_sock, addr)

        return handle_tls


def for_worker(cfg, log, gevent=False):
    """The worker's WorkerTLS, or None when TLS is off. Call it after fork (and after patching)."""
    context = worker_context(cfg)
    if context is None:
        return None
    if gevent:
        from gevent.ssl import SSLContext as GeventSSLContext

        if not isinstance(context, GeventSSLContext):
            context = GeventContext(context)
    return WorkerTLS(context, cfg, log)
