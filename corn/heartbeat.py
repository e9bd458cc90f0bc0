"""The heartbeat by which the master sees that a worker is alive.

One unlinked temporary file per worker, created by the master before fork so both processes
hold it. The worker calls `notify()` (one `utime` on the descriptor) at a bounded rate, never per
request; the master reads `last_update()` (one `fstat`) and compares it with `time.monotonic()`.
Monotonic time is written into the mtime on purpose: only the master reads it back.

Plane: control.
"""

import os
import tempfile
import time


def default_tmp_dir():
    """A tmpfs when there is one, so a blocked disk cannot stall the heartbeat."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class Heartbeat:
    def __init__(self, tmp_dir=None, uid=None, gid=None):
        tmp_dir = tmp_dir or default_tmp_dir()
        if tmp_dir is not None and not os.path.isdir(tmp_dir):
            raise RuntimeError(f"worker_tmp_dir {tmp_dir!r} does not exist")
        fd, name = tempfile.mkstemp(prefix="corn-", dir=tmp_dir)
        try:
            if uid is not None and gid is not None and (uid, gid) != (os.geteuid(), os.getegid()):
                os.fchown(fd, uid, gid)
        finally:
            os.unlink(name)
        self._fd = fd
        self.notify()

    def notify(self):
        t = time.monotonic()
        os.utime(self._fd, (t, t))

    def last_update(self):
        return os.fstat(self._fd).st_mtime

    def fileno(self):
        return self._fd

    def close(self):
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
