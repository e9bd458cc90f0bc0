"""Why a worker could not boot, said once by the master rather than once per worker.

When every worker fails the same way (an app that does not import, with `-w 4`), each would
log the same traceback. Instead the worker leaves its reason in its heartbeat file, which the
master created before the fork and still holds (the heartbeat itself is only the file's mtime,
so its content is free), and exits; the master reads the reason when it reaps the worker and
logs each distinct one once. A worker that cannot write the file logs the reason itself.
"""

import os

LIMIT = 64 * 1024  # bytes of a reason kept; a traceback is far shorter


def leave(tmp, text):
    """In the worker: leave `text` for the master; False when it could not be written."""
    data = text.encode("utf-8", "replace")[:LIMIT]
    try:
        os.ftruncate(tmp.fileno(), 0)
        return os.pwrite(tmp.fileno(), data, 0) == len(data)
    except (OSError, ValueError, AttributeError):
        return False


def take(tmp):
    """In the master: the reason a reaped worker left, or None."""
    try:
        data = os.pread(tmp.fileno(), LIMIT, 0)
    except (OSError, ValueError, AttributeError):
        return None
    return data.decode("utf-8", "replace") if data else None
