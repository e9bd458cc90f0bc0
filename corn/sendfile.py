"""Zero-copy file bodies: os.sendfile on the client socket, cooperative under gevent.

The socket is non-blocking underneath (gevent's always are, and so is a stdlib socket with a
timeout), so os.sendfile may send part of a slice or nothing; the worker's `wait_write(fd,
timeout)` then waits until the socket can take more, yielding to other greenlets under gevent.

Plane: data (per request; imports only the data plane and the shared modules).
"""

import os

SLICE = 1 << 20  # bytes per sendfile call: keeps one connection from monopolising the loop


def send_file(sock, in_fd, offset, count, wait_write, timeout):
    """Send `count` bytes of `in_fd` from `offset`; returns how many were sent (fewer only when
    the file turned out shorter than `count`). Raises the socket's errors and TimeoutError."""
    out_fd = sock.fileno()
    sent = 0
    while sent < count:
        try:
            n = os.sendfile(out_fd, in_fd, offset + sent, min(SLICE, count - sent))
        except BlockingIOError:
            wait_write(out_fd, timeout or None)
            continue
        if n == 0:
            break
        sent += n
    return sent
