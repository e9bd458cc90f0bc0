"""A worker's wakeup pipe: signals, pool threads and green threads end its main loop's wait.

The main loop watches `fd` (in its epoll set, IOLoop or hub); `wake()` makes it readable from
any thread or signal handler, and `install()` has every signal the process receives do the same
(`signal.set_wakeup_fd`), so a handler that only sets a flag is acted on at once.

Plane: control.
"""

import os
import signal


class WakeupPipe:
    def __init__(self, write=os.write, read=os.read):
        """`write` and `read` are the unpatched os functions where a library patches them (eventlet's
        would wait in its hub, which a signal handler may be running in)."""
        self.fd, self.write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._write = write
        self._read = read

    def install(self):
        signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)

    def wake(self):
        try:
            self._write(self.write_fd, b".")
        except BlockingIOError:
            pass  # a wakeup is pending already

    def drain(self):
        try:
            while self._read(self.fd, 4096):
                pass
        except BlockingIOError:
            pass
