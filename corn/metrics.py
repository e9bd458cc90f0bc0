"""The master's side of `--metrics-bind`: the workers' counter slots, summed when scraped.

Before it forks a worker, the master maps one anonymous shared-memory slot for it (`new_slot`,
an array of `corn._state.COUNTER_COUNT` 64-bit integers); the worker's compiled request cycle
bumps the counters in it through a C pointer (corn._state.WorkerState) and nothing else happens
per request. When scraped, the master adds up the slots of the live workers and the totals of the
workers that have exited: a worker's final counts are folded into those totals when it is reaped
(`worker_exited`), under the same lock the scrape takes, so a counter never goes back.

The master also counts worker restarts by reason, the reason being what the worker wrote into
its slot (`max_requests`, or `reload` for `--reload`) or what the master saw (`timeout`: it had to
abort the worker; `reload`: HUP retired it; `crash`: it died without being asked).

`METRICS` is the metric set; `samples()` produces it and `python -m corn.metrics` renders
docs/metrics.md from it (a test checks the file is current). The text formats are written by
corn.metrics_http, which also runs the endpoint's thread.

Plane: control.
"""

import mmap
import os
import platform
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass

from corn import __version__
from corn import _state

SLOTS = _state.COUNTER_SLOTS
COUNTERS = _state.COUNTER_COUNT
METHODS = _state.METHODS
ERROR_KINDS = _state.ERROR_KINDS
BUCKETS = _state.DURATION_BUCKETS
CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
RESTART_REASONS = ("crash", "max_requests", "reload", "timeout")
SLOT_SIZE = max(mmap.PAGESIZE, COUNTERS * 8)
# Counters that are not summed into the exited workers' totals: gauges and the exit flag.
NOT_FOLDED = frozenset((SLOTS["exit_reason"],))


@dataclass(frozen=True)
class Metric:
    """One metric family as documented and exposed."""

    name: str  # the family name (counters without their _total suffix, as OpenMetrics names them)
    type: str  # counter, gauge or histogram
    help: str
    labels: tuple = ()


METRICS = (
    Metric("corn_requests", "counter",
           "Requests answered by the application (or with its 500), by method and status class.",
           ("method", "status_class")),
    Metric("corn_request_duration_seconds", "histogram",
           "Seconds from a request's head received to its last byte sent."),
    Metric("corn_requests_in_progress", "gauge", "Requests whose head was received and that have not ended."),
    Metric("corn_request_parse_errors", "counter",
           "Requests refused because they could not be parsed, by error class.", ("kind",)),
    Metric("corn_received_bytes", "counter", "Bytes received on client connections."),
    Metric("corn_sent_bytes", "counter", "Response bytes sent (heads and bodies, chunk framing excluded)."),
    Metric("corn_connections_accepted", "counter", "Client connections accepted."),
    Metric("corn_connections_open", "gauge", "Client connections open now."),
    Metric("corn_keepalive_reuses", "counter", "Requests served on a connection that had served one before."),
    Metric("corn_workers", "gauge", "Worker processes (including those retiring)."),
    Metric("corn_worker_restarts", "counter", "Workers that exited and were replaced, by reason.",
           ("reason",)),
    Metric("corn_worker_heartbeat_age_seconds", "gauge",
           "Seconds since each worker's last heartbeat.", ("pid",)),
    Metric("corn_listen_queue_depth", "gauge",
           "Connections waiting in a listener's accept queue (Linux, TCP listeners).", ("listener",)),
    Metric("corn_listen_queue_limit", "gauge",
           "The size of a listener's accept queue (Linux, TCP listeners).", ("listener",)),
    Metric("corn_build_info", "gauge", "Always 1; the labels say which corn and Python run.",
           ("version", "python")),
)

FAMILIES = {metric.name: metric for metric in METRICS}


def new_slot():
    """A zeroed shared-memory slot; made in the master before fork, so both processes map it."""
    return mmap.mmap(-1, SLOT_SIZE, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_ANONYMOUS", 0x20))


def read_slot(slot):
    """The slot's counters as a list of ints."""
    return list(memoryview(slot).cast("q")[:COUNTERS])


class MetricsHub:
    """The master's counters: the live workers' slots, the exited workers' totals, restarts."""

    def __init__(self, arbiter):
        self.arbiter = arbiter
        self.lock = threading.Lock()  # taken by the scrape and by the fold of an exited worker
        self.slots = {}  # pid -> slot of a live worker
        self.totals = [0] * COUNTERS
        self.restarts = dict.fromkeys(RESTART_REASONS, 0)
        self.reload_retired = set()  # pids HUP retired
        self.server = None

    # --- the master's main thread --------------------------------------------------------

    def start(self, server):
        """Serve scrapes with `server` (corn.metrics_http.MetricsServer over this hub)."""
        self.server = server
        self.server.start()
        return self.server

    def close(self):
        if self.server is not None:
            self.server.close()
            self.server = None

    def slot_for(self, worker):
        """Map a new slot for a worker about to be forked; it reaches the worker as `metrics_slot`."""
        worker.metrics_slot = new_slot()
        return worker.metrics_slot

    def worker_forked(self, pid, worker):
        with self.lock:
            self.slots[pid] = worker.metrics_slot

    def retired_for_reload(self, pids):
        self.reload_retired.update(pids)

    def worker_exited(self, pid, worker, status=None, killed_by_us=False, asked_to_stop=False):
        """Fold an exited worker's counters into the totals and count its restart, if it was one.
        `status` is its waitpid status (None when it was found gone without one)."""
        slot = getattr(worker, "metrics_slot", None)
        reason = None
        with self.lock:
            self.slots.pop(pid, None)
            counts = read_slot(slot) if slot is not None else [0] * COUNTERS
            for i, value in enumerate(counts):
                if i not in NOT_FOLDED:
                    self.totals[i] += value
            flag = _state.EXIT_REASONS.get(counts[SLOTS["exit_reason"]])
            if pid in self.reload_retired:
                reason = "reload"
            elif worker.aborted:
                reason = "timeout"
            elif flag is not None:
                reason = flag
            elif status is not None and not killed_by_us and not asked_to_stop and (
                    os.WIFSIGNALED(status) or (os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0)):
                reason = "crash"
            if reason is not None:
                self.restarts[reason] += 1
            self.reload_retired.discard(pid)
        if slot is not None:
            worker.metrics_slot = None
            try:
                slot.close()
            except (BufferError, ValueError):
                pass

    # --- the endpoint's thread -----------------------------------------------------------

    def snapshot(self):
        """Counters summed over live and exited workers, and those of the live workers alone."""
        with self.lock:
            live = [read_slot(slot) for slot in self.slots.values()]
            total = list(self.totals)
        live_sum = [0] * COUNTERS
        for counts in live:
            for i, value in enumerate(counts):
                live_sum[i] += value
        for i in range(COUNTERS):
            if i not in NOT_FOLDED:
                total[i] += live_sum[i]
        return total, live_sum

    def samples(self):
        """Every family with its samples: {family name: [(suffix, labels dict, value)]}."""
        total, live = self.snapshot()
        out = {metric.name: [] for metric in METRICS}
        base = SLOTS["requests"]
        for m, method in enumerate(METHODS):
            for c, cls in enumerate(CLASSES):
                value = total[base + m * len(CLASSES) + c]
                if value:
                    out["corn_requests"].append(("_total", {"method": method, "status_class": cls}, value))
        buckets = total[SLOTS["buckets"]:SLOTS["buckets"] + len(BUCKETS) + 1]
        cumulative = 0
        hist = out["corn_request_duration_seconds"]
        for bound, count in zip(BUCKETS + (float("inf"),), buckets):
            cumulative += count
            hist.append(("_bucket", {"le": _le(bound)}, cumulative))
        hist.append(("_sum", {}, total[SLOTS["duration_us"]] / 1e6))
        hist.append(("_count", {}, cumulative))
        out["corn_requests_in_progress"].append(("", {}, max(0, live[SLOTS["begun"]] - live[SLOTS["done"]])))
        for k, kind in enumerate(ERROR_KINDS):
            out["corn_request_parse_errors"].append(("_total", {"kind": kind}, total[SLOTS["errors"] + k]))
        out["corn_received_bytes"].append(("_total", {}, total[SLOTS["bytes_in"]]))
        out["corn_sent_bytes"].append(("_total", {}, total[SLOTS["bytes_out"]]))
        out["corn_connections_accepted"].append(("_total", {}, total[SLOTS["accepted"]]))
        out["corn_connections_open"].append(("", {}, max(0, live[SLOTS["accepted"]] - live[SLOTS["closed"]])))
        out["corn_keepalive_reuses"].append(("_total", {}, total[SLOTS["reuses"]]))
        workers = dict(self.arbiter.workers)
        out["corn_workers"].append(("", {}, len(workers)))
        with self.lock:
            restarts = dict(self.restarts)
        for reason in RESTART_REASONS:
            out["corn_worker_restarts"].append(("_total", {"reason": reason}, restarts[reason]))
        now = time.monotonic()
        for pid, worker in sorted(workers.items()):
            try:
                age = max(0.0, now - worker.tmp.last_update())
            except (OSError, ValueError, AttributeError):
                continue
            out["corn_worker_heartbeat_age_seconds"].append(("", {"pid": str(pid)}, round(age, 3)))
        for listener in list(self.arbiter.listeners):
            queue = listen_queue(listener)
            if queue is not None:
                name = str(listener)
                out["corn_listen_queue_depth"].append(("", {"listener": name}, queue[0]))
                out["corn_listen_queue_limit"].append(("", {"listener": name}, queue[1]))
        out["corn_build_info"].append(("", {"version": __version__, "python": platform.python_version()}, 1))
        return out


def _le(bound):
    return "+Inf" if bound == float("inf") else repr(float(bound))


# struct tcp_info (linux/tcp.h): eight one-byte fields, then u32 rto, ato, snd_mss, rcv_mss,
# unacked, sacked. On a listening socket tcpi_unacked is the accept queue's length and
# tcpi_sacked its limit.
_TCP_INFO = struct.Struct("8B6I")


def listen_queue(listener):
    """(waiting connections, queue limit) of a TCP listener on Linux, else None."""
    if not sys.platform.startswith("linux") or not hasattr(socket, "TCP_INFO"):
        return None
    sock = getattr(listener, "sock", listener)
    try:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return None
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO.size)
    except (OSError, ValueError):
        return None
    if len(info) < _TCP_INFO.size:
        return None
    fields = _TCP_INFO.unpack(info)
    return fields[12], fields[13]


# --- docs/metrics.md ------------------------------------------------------------------------

DOC_HEAD = """# Metrics

<!-- Generated by `python -m corn.metrics > docs/metrics.md`; edit corn/metrics.py instead. -->

With `--metrics-bind ADDRESS` (`host:port` or `unix:PATH`) the master serves `GET /metrics` in
the Prometheus text format, or in OpenMetrics when the scraper's `Accept` header asks for
`application/openmetrics-text`. The endpoint runs in a thread of the master, never in a worker, so
a stuck worker cannot hide itself: its heartbeat age keeps growing.

Each worker counts in a shared-memory slot the master mapped before forking it; its compiled
request cycle adds to plain integers there (no socket, no file, no Python object per request).
At scrape time the master adds up the live workers' slots and the totals of workers that have
exited, so counters never go back, across worker restarts, `--reload` and HUP. Metrics off (the
default), no slot is mapped and the request cycle tests one pointer.

- `corn_requests_total` counts the requests that reached the application (the 500 corn sends
  when the application raised included); a request refused because it could not be parsed is
  counted by `corn_request_parse_errors_total` instead. The duration histogram counts the same
  requests as `corn_requests_total`.
- Methods other than GET, HEAD, POST, PUT, DELETE, PATCH and OPTIONS share the label
  `method="other"`; parse errors are named by their class in `corn.http_errors`.
- Restart reasons: `max_requests` (the worker reached `--max-requests`), `timeout` (the master
  aborted it: no heartbeat within `--timeout`), `reload` (HUP, or `--reload` saw a file change),
  `crash` (it died or failed without being asked). Workers stopped by TTOU or a shutdown are not
  restarts.
- A USR2 re-exec starts a new master with counters of its own, from zero, on its own
  `metrics_bind` address (which it binds only once the old master has closed it: give the new
  master another address, or scrape the old one until it exits). `metrics_bind` is read at start;
  a HUP keeps the endpoint as it is.
- The request counters are read from the live workers without stopping them: a scrape sees each
  counter as it stands, not one consistent instant across counters.

| metric | type | labels | meaning |
| --- | --- | --- | --- |
"""


def render_markdown():
    rows = []
    for metric in METRICS:
        if metric.type == "counter":
            name = metric.name + "_total"
        elif metric.type == "histogram":
            name = f"{metric.name}_bucket`, `_sum`, `_count"
        else:
            name = metric.name
        names = metric.labels + (("le",) if metric.type == "histogram" else ())
        labels = ", ".join(f"`{label}`" for label in names)
        rows.append(f"| `{name}` | {metric.type} | {labels} | {metric.help} |")
    buckets = ", ".join(str(b) for b in BUCKETS)
    return (DOC_HEAD + "\n".join(rows) + "\n\n"
            + f"Duration buckets (seconds): {buckets}, +Inf.\n")


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
