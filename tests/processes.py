"""Watching processes from outside: bounded polls and what /proc says about a pid.

Shared by the test suite (tests/conftest.py) and the end-to-end benchmark (perf/e2e.py).
"""

import os
import time


def wait_for(predicate, timeout=60.0, message="condition", interval=0.05):
    """Poll `predicate` until it returns a true value and return that; TimeoutError after `timeout` s."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {message}")
        time.sleep(interval)


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def child_pids(pid):
    """Live pids whose parent is `pid`, sorted."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(entry)
            if fields is not None and int(fields[1]) == pid and fields[0] != b"Z":
                pids.append(int(entry))
    return sorted(pids)


def pid_alive(pid):
    fields = stat_fields(pid)
    return fields is not None and fields[0] != b"Z"


def rss_kib(pid):
    """VmRSS of `pid` in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))
