"""The master's pid file, with gunicorn's semantics.

- `create(pid)` refuses to start when the file names a live process ("Already running on PID N
  (or pid file PATH is stale)"); a pid that no longer exists, or garbage, is overwritten.
- The file is written atomically: a temporary file in the same directory, then `rename`, mode 0644.
- `unlink()` removes the file only while it still holds our pid, so a new master that took the
  file over (USR2) never loses it to the old one.

Plane: control.
"""

import errno
import os
import tempfile


class Pidfile:
    def __init__(self, path):
        self.path = path
        self.pid = None

    def create(self, pid):
        running = self.validate()
        if running and running != os.getpid():
            raise RuntimeError(f"Already running on PID {running} (or pid file '{self.path}' is stale)")
        self.pid = pid
        directory = os.path.dirname(self.path) or "."
        if not os.path.isdir(directory):
            raise RuntimeError(f"{directory} doesn't exist. Can't create pidfile.")
        fd, tmp_path = tempfile.mkstemp(prefix=".corn-pid-", dir=directory)
        try:
            os.write(fd, f"{pid}\n".encode())
            os.fchmod(fd, 0o644)
        finally:
            os.close(fd)
        try:
            os.rename(tmp_path, self.path)
        except OSError:
            os.unlink(tmp_path)
            raise

    def rename(self, path):
        """Move to `path` (a promoted USR2 master drops the ".2")."""
        self.unlink()
        self.path = path
        self.create(self.pid)

    def unlink(self):
        try:
            with open(self.path) as f:
                pid = int(f.read().strip() or 0)
            if pid == self.pid:
                os.unlink(self.path)
        except (OSError, ValueError):
            pass

    def validate(self):
        """The pid in the file if that process is alive (or not ours to signal), else None."""
        try:
            with open(self.path) as f:
                content = f.read()
        except FileNotFoundError:
            return None
        try:
            pid = int(content.strip())
        except ValueError:
            return None
        if pid <= 0:
            return None
        try:
            os.kill(pid, 0)
        except OSError as exc:
            if exc.errno == errno.EPERM:
                return pid
            if exc.errno == errno.ESRCH:
                return None
            raise
        return pid
