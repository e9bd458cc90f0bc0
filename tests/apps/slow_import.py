"""basic.app behind an import that takes SLOW_IMPORT_SECONDS (default 5): a worker is still
booting meanwhile. Each import first creates a file in SLOW_IMPORT_MARKERS (when set), so a test
can tell, without sleeping, that a worker has begun importing it."""

import os
import time

from basic import app  # noqa: F401

_markers = os.environ.get("SLOW_IMPORT_MARKERS")
if _markers:
    with open(os.path.join(_markers, str(os.getpid())), "w"):
        pass
_end = time.monotonic() + float(os.environ.get("SLOW_IMPORT_SECONDS", "5"))
while time.monotonic() < _end:
    time.sleep(0.05)  # under gevent each sleep runs the hub, so a signal may land in either
