"""systemd integration: socket activation (`LISTEN_FDS`) and readiness (`sd_notify`).

`listen_fds()` honours `LISTEN_FDS` only when `LISTEN_PID` is this process, and then removes both
variables so workers and re-exec'd masters do not claim the sockets again. Inherited descriptors
start at 3. `sd_notify()` sends one datagram to `NOTIFY_SOCKET` (a leading `@` names an abstract
socket) and is a no-op outside systemd; a failure is logged at debug and never raised.

Plane: control.
"""

import os
import socket

SD_LISTEN_FDS_START = 3


def listen_fds(unset_environment=True):
    """How many sockets systemd passed to this process (0 when none were meant for it)."""
    try:
        count = int(os.environ.get("LISTEN_FDS", 0))
        listen_pid = int(os.environ.get("LISTEN_PID", 0))
    except ValueError:
        return 0
    if listen_pid != os.getpid():
        return 0
    if unset_environment:
        os.environ.pop("LISTEN_PID", None)
        os.environ.pop("LISTEN_FDS", None)
    return max(count, 0)


def sd_notify(state, log, unset_environment=False):
    """Tell the service manager `state` (e.g. "READY=1"), if there is one."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(addr)
            sock.sendall(state.encode("utf-8"))
    except OSError:
        log.debug("Exception while invoking sd_notify()", exc_info=True)
    finally:
        if unset_environment:
            os.environ.pop("NOTIFY_SOCKET", None)
