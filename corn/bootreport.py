"""Why workers could not boot, said once by the master rather than once per worker.

When every worker fails the same way (an app that does not import, with `-w 4`), each would
log the same traceback. Instead a failing worker appends its reason to one file the master
created before forking any worker, and exits; the master reads the reasons when it reaps the
workers and logs each distinct one once.

The file is unlinked at once and opened for appending: a record (its length on a line, then the
text) goes in with one write, which the kernel keeps whole against other appends. A record that
is still being written when the master reads is left for its next read. The heartbeat file
cannot carry the reason: writing it would move its mtime, which tells the master a worker booted.

Plane: control.
"""

import fcntl
import os
import tempfile

LIMIT = 60 * 1024  # bytes of a reason kept; a traceback is far shorter


class BootReports:
    def __init__(self, tmp_dir=None):
        fd, name = tempfile.mkstemp(prefix="corn-boot-", dir=tmp_dir)
        os.unlink(name)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
        self._fd = fd
        self._read = 0  # bytes of whole records the master has taken

    def leave(self, text):
        """In a worker: record `text`; False when it could not be written."""
        data = text.encode("utf-8", "replace")[:LIMIT]
        record = b"%d\n" % len(data) + data
        try:
            return os.write(self._fd, record) == len(record)
        except OSError:
            return False

    def take(self):
        """In the master: the reasons recorded since the last call, oldest first."""
        try:
            data = os.pread(self._fd, os.fstat(self._fd).st_size - self._read, self._read)
        except OSError:
            return []
        reasons = []
        at = 0
        while True:
            end = data.find(b"\n", at)
            if end < 0:
                break
            size = int(data[at:end])
            if end + 1 + size > len(data):
                break  # still being written
            reasons.append(data[end + 1 : end + 1 + size].decode("utf-8", "replace"))
            at = end + 1 + size
        self._read += at
        return reasons

    def close(self):
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
