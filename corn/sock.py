"""Listening sockets: created by the master, inherited by every worker across fork.

`create_sockets(cfg, log, fds=None)` turns `cfg.address` (TCP `(host, port)` tuples, unix paths,
`fd://N` descriptors) or inherited descriptors (systemd, USR2 re-exec) into listeners. Every
listener is non-blocking and inheritable, has SO_REUSEADDR (SO_REUSEPORT with `reuse_port`) and,
for TCP, TCP_NODELAY, which accepted sockets inherit. `str(listener)` is the address actually
bound (`http://127.0.0.1:8000`, `http://[::1]:8000`, `unix:/run/app.sock`), so port 0 shows the
port the kernel chose.

With `reuse_port`, TCP addresses are *reserved* by the master (bound, never listening) and each
worker binds and listens on its own socket at the same address (`worker_sockets`), so the kernel
spreads connections over workers. A reserved socket never receives connections, and it keeps the
port (and the real port chosen for port 0) for the master's lifetime.

A bind that finds the address in use is retried 5 times, 1 s apart; any failure ends in one
`HaltServer` whose message says which address and why.

Plane: control.
"""

import errno
import os
import socket
import stat
import time

from corn.errors import HaltServer

BIND_ATTEMPTS = 5
BIND_RETRY_DELAY = 1.0
RETRYABLE_BIND_ERRORS = (errno.EADDRINUSE, errno.EADDRNOTAVAIL)


def reuse_port_enabled(cfg):
    return bool(cfg.reuse_port) and hasattr(socket, "SO_REUSEPORT")


class Listener:
    """One listening socket; attribute access falls through to the socket object."""

    family = socket.AF_INET

    def __init__(self, cfg, log, address=None, sock=None, listen=True):
        """Bind a new socket to `address`, or adopt `sock`, an already bound one."""
        self.cfg = cfg
        self.log = log
        if sock is None:
            sock = socket.socket(self.family, socket.SOCK_STREAM)
            try:
                self._set_options(sock)
                self.bind(sock, address)
            except BaseException:
                sock.close()
                raise
        else:
            self._set_options(sock)
            address = sock.getsockname()
        self.address = address
        sock.setblocking(False)
        sock.set_inheritable(True)
        if listen and not _is_listening(sock):
            sock.listen(cfg.backlog)
        self.sock = sock

    def _set_options(self, sock):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port_enabled(self.cfg):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            except OSError as exc:
                if exc.errno not in (errno.ENOPROTOOPT, errno.EINVAL):
                    raise

    def bind(self, sock, address):
        sock.bind(address)

    @property
    def FAMILY(self):
        """gunicorn's name for the address family, read by workers written for gunicorn."""
        return self.family

    @property
    def listening(self):
        return self.sock is not None and _is_listening(self.sock)

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        if self.sock is None:
            return
        try:
            self.sock.close()
        except OSError as exc:
            self.log.info("Error while closing socket %s", exc)
        self.sock = None

    def __getattr__(self, name):
        sock = self.__dict__.get("sock")
        if sock is None:
            raise AttributeError(name)
        return getattr(sock, name)

    def _scheme(self):
        return "https" if self.cfg.is_ssl else "http"


class TCPListener(Listener):
    family = socket.AF_INET

    def _set_options(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super()._set_options(sock)

    def __str__(self):
        host, port = self.sock.getsockname()[:2] if self.sock is not None else self.address[:2]
        return f"{self._scheme()}://{host}:{port}"


class TCP6Listener(TCPListener):
    family = socket.AF_INET6

    def __str__(self):
        host, port = self.sock.getsockname()[:2] if self.sock is not None else self.address[:2]
        return f"{self._scheme()}://[{host}]:{port}"


class UnixListener(Listener):
    family = socket.AF_UNIX

    def bind(self, sock, path):
        abstract = path.startswith("\0")
        if not abstract:
            _remove_stale_socket(path)
        old_umask = os.umask(self.cfg.umask)
        try:
            sock.bind(path)
        finally:
            os.umask(old_umask)
        if not abstract:
            uid, gid = self.cfg.uid, self.cfg.gid
            if (uid, gid) != (os.geteuid(), os.getegid()):
                os.chown(path, uid, gid)

    @property
    def path(self):
        return self.address if isinstance(self.address, str) else os.fsdecode(self.address)

    def __str__(self):
        path = self.path
        return "unix:" + ("@" + path[1:] if path.startswith("\0") else path)


FAMILY_CLASSES = {socket.AF_INET: TCPListener, socket.AF_INET6: TCP6Listener, socket.AF_UNIX: UnixListener}


def _remove_stale_socket(path):
    """Remove a socket file nobody listens on; refuse any other kind of file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise OSError(errno.EEXIST, f"{path!r} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except ConnectionRefusedError:
        os.remove(path)  # nobody listens: a leftover of a server that is gone
        return
    except OSError as exc:  # a full backlog, no permission: someone may be there
        raise OSError(errno.EADDRINUSE, f"{path!r} may be in use ({exc.strerror or exc})") from exc
    finally:
        probe.close()
    raise OSError(errno.EADDRINUSE, f"another process is listening on {path!r}")


def _is_listening(sock):
    """An inherited socket may already listen; calling listen() again can be denied (SELinux)."""
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    except (AttributeError, OSError):
        return False


def listener_class(address):
    if isinstance(address, tuple):
        return TCP6Listener if _is_ipv6(address[0]) else TCPListener
    if isinstance(address, (str, bytes)):
        return UnixListener
    raise TypeError(f"Unable to create socket from: {address!r}")


def _is_ipv6(host):
    if not host or ":" not in host:
        return False
    try:
        socket.inet_pton(socket.AF_INET6, host.split("%", 1)[0])
    except (OSError, ValueError):
        return False
    return True


def _adopt(cfg, log, fd, reserve):
    """A listener around inherited descriptor `fd`, whatever its family."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise HaltServer(f"Can't use inherited socket fd {fd}: {exc.strerror or exc}", 1) from exc
    cls = FAMILY_CLASSES.get(sock.family)
    if cls is None or sock.type != socket.SOCK_STREAM:
        sock.detach()
        raise HaltServer(f"Can't use inherited socket fd {fd}: not a TCP or unix stream socket", 1)
    listen = not (reserve and issubclass(cls, TCPListener))
    return cls(cfg, log, sock=sock, listen=listen)


def check_ssl_files(cfg):
    for name in ("certfile", "keyfile"):
        path = getattr(cfg, name, None)
        if path and not os.path.exists(path):
            raise HaltServer(f'{name} "{path}" does not exist', 1)


def create_sockets(cfg, log, fds=None):
    """Listeners for every configured address, or wrappers around inherited descriptors."""
    check_ssl_files(cfg)
    reserve = reuse_port_enabled(cfg)
    addresses = list(cfg.address)
    inherited = [a for a in addresses if isinstance(a, int)] + list(fds or ())
    listeners = []
    try:
        if inherited:
            for fd in inherited:
                listeners.append(_adopt(cfg, log, fd, reserve))
            return listeners
        for address in addresses:
            cls = listener_class(address)
            listen = not (reserve and issubclass(cls, TCPListener))
            listeners.append(_bind_with_retries(cls, cfg, log, address, listen))
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners


def _bind_with_retries(cls, cfg, log, address, listen):
    shown = _show(address)
    for attempt in range(1, BIND_ATTEMPTS + 1):
        try:
            return cls(cfg, log, address=address, listen=listen)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                log.error("Connection in use: %s", shown)
            elif exc.errno == errno.EADDRNOTAVAIL:
                log.error("Invalid address: %s", shown)
            if exc.errno not in RETRYABLE_BIND_ERRORS or attempt == BIND_ATTEMPTS:
                raise HaltServer(f"Can't connect to {shown}: {exc.strerror or exc}", 1) from exc
            log.error("connection to %s failed: %s", shown, exc)
            log.debug("Retrying in 1 second.")
            time.sleep(BIND_RETRY_DELAY)
    raise AssertionError("unreachable")


def rebind(cfg, log, current):
    """Listeners for `cfg.address` after a reload: the current listener is kept for every address
    that did not change and new ones are bound for the rest. Returns (listeners, no longer used)."""
    check_ssl_files(cfg)
    reserve = reuse_port_enabled(cfg)
    unused = list(current)
    listeners = []
    try:
        for address in cfg.address:
            found = next((lnr for lnr in unused if _same_address(lnr, address)), None)
            if found is not None:
                unused.remove(found)
                listeners.append(found)
            elif isinstance(address, int):
                listeners.append(_adopt(cfg, log, address, reserve))
            else:
                cls = listener_class(address)
                listen = not (reserve and issubclass(cls, TCPListener))
                listeners.append(_bind_with_retries(cls, cfg, log, address, listen))
    except BaseException:
        for listener in listeners:
            if listener not in current:
                listener.close()
        raise
    return listeners, unused


def _same_address(listener, address):
    if isinstance(address, int):
        return listener.sock is not None and listener.fileno() == address
    if isinstance(address, tuple) and isinstance(listener.address, tuple):
        return tuple(listener.address[:2]) == tuple(address[:2])
    return listener.address == address


def worker_sockets(listeners, cfg, log):
    """The sockets a worker serves: its own listening socket for every address the master
    only reserved (reuse_port), the master's shared socket for the rest."""
    own = []
    for listener in listeners:
        if isinstance(listener, TCPListener) and not listener.listening:
            address = listener.sock.getsockname()
            own.append(type(listener)(cfg, log, address=address, listen=True))
        else:
            own.append(listener)
    return own


def close_sockets(listeners, unlink=True):
    """Close every listener; remove unix socket files too when `unlink`."""
    for listener in listeners:
        path = listener.path if isinstance(listener, UnixListener) else None
        listener.close()
        if unlink and path and not path.startswith("\0"):
            try:
                if stat.S_ISSOCK(os.stat(path).st_mode):
                    os.unlink(path)
            except OSError:
                pass


def _show(address):
    if isinstance(address, tuple):
        host, port = address[:2]
        return f"[{host}]:{port}" if _is_ipv6(host) else f"{host}:{port}"
    if isinstance(address, int):
        return f"fd://{address}"
    return f"unix:{address}"
