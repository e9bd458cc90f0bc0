"""Leak check: a million requests of every kind against one corn worker, its memory sampled on the way.

    python3 perf/leakcheck.py [--requests 1000000] [--phases 10] [--connections 32]

One corn master with one gevent worker on 127.0.0.1 (an ephemeral port) serves `perf.apps:leak`.
The load comes in phases; each phase is wrk (a Lua script cycling through ordinary keep-alive
GETs, POSTs with a Content-Length and chunked bodies, requests whose app raises, so a 500 and a
close, and malformed requests, so a 400 and a close) while a Python client opens connections that
vanish mid-body (a head promising 100000 bytes, 1000 sent, then a close or a reset) and
mid-response (16 MiB asked for, 1000 bytes read, then a reset). After each phase, with no load,
the worker's RSS and its count of live Python objects (`len(gc.get_objects())` after a full
collection, from the app's `/objects`; the worker freezes what exists at boot, `gc.freeze()`, so
that count is what was made since, and the frozen count is shown beside it) are sampled. The
verdict compares the samples after the first phase (the warm-up: caches, pools and buffers
fill) with the last, and says flat or growing.

Servers and wrk are started and measured with perf/e2e.py's helpers: the server pinned to one CPU
and wrk to the other, every wait a bounded poll, the server stopped on the way out by its process
group.
"""

import argparse
import math
import os
import socket
import struct
import sys
import tempfile
import threading
import time

import e2e

WARM_SECONDS = 3  # the first wrk run, to measure the rate the phases are sized by
MAX_PHASE_SECONDS = 600
RSS_FLAT_KIB = 4096  # growth after the warm-up still counted as flat: allocator noise
OBJECTS_FLAT = 1000
CLIENT_TIMEOUT = 10.0
SETTLE_SECONDS = 30.0

LUA = r"""
local requests = {}
local n = 0
function init(args)
    local ok = wrk.format("GET", "/hello")
    local post = wrk.format("POST", "/echo", {["Content-Type"] = "application/octet-stream"},
                            string.rep("e", 1024))
    local chunked = "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        .. "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    local raise = wrk.format("GET", "/raise")
    local smuggle = "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
        .. "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    local bad_line = "GET /he llo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    requests = {ok, ok, ok, post, ok, chunked, ok, raise, ok, smuggle, ok, bad_line}
end
function request()
    n = n + 1
    return requests[(n % #requests) + 1]
end
"""
# of every 12 requests wrk sends: 1 answered 500, 2 answered 400
WRK_ERRORS_PER_12 = 3


class LeakServer(e2e.Server):
    """e2e's corn server, logging only criticals: a leak check raises and refuses by the thousand."""

    def command(self):
        command = super().command()
        command[command.index("--log-level") + 1] = "critical"
        return command


def vanish_mid_body(port, reset):
    with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"
                     + b"v" * 1000)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def vanish_mid_response(port):
    with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(b"GET /huge HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = 0
        for _ in range(100):
            data = sock.recv(1000 - got)
            got += len(data)
            if not data or got >= 1000:
                break
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Vanishing(threading.Thread):
    """Clients that leave mid-body and mid-response, one after another, until told to stop."""

    def __init__(self, port, limit):
        super().__init__(daemon=True)
        self.port = port
        self.limit = limit
        self.stop = threading.Event()
        self.count = 0
        self.failures = 0

    def run(self):
        kinds = (lambda: vanish_mid_body(self.port, False), lambda: vanish_mid_body(self.port, True),
                 lambda: vanish_mid_response(self.port))
        while not self.stop.is_set() and self.count < self.limit:
            try:
                kinds[self.count % len(kinds)]()
            except OSError:
                self.failures += 1
            self.count += 1


def wrk_command(port, seconds, connections, lua_path):
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua_path, f"http://127.0.0.1:{port}/"]
    return e2e.pinned(e2e.CLIENT_CPU, command)


def live_objects(port):
    with e2e.HTTPClient(port) as client:
        status, _, body = client.round_trip(b"GET /objects HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    if status != 200:
        raise RuntimeError(f"/objects answered {status}")
    live, frozen = body.split()
    return int(live), int(frozen)


def settle(server):
    """Wait until the worker's open descriptors stop changing (connections still closing: a
    close waits up to a second for the peer), bounded by SETTLE_SECONDS."""
    end = time.monotonic() + SETTLE_SECONDS
    last, since = e2e.open_fds(server.worker), time.monotonic()
    while time.monotonic() < end and time.monotonic() - since < 2.0:
        time.sleep(0.1)  # the polling period, not a wait for a state
        now = e2e.open_fds(server.worker)
        if now != last:
            last, since = now, time.monotonic()


def sample(server, requests, phase, wrk_errors):
    settle(server)
    objects, frozen = live_objects(server.port)
    return {"phase": phase, "requests": requests, "rss_kib": e2e.rss_kib(server.worker), "objects": objects,
            "frozen": frozen, "fds": e2e.open_fds(server.worker), "wrk_errors": wrk_errors}


def phase(server, seconds, connections, lua_path, vanish_limit):
    """One phase of load: (requests answered or cut, wrk's error count, wrk's report)."""
    vanishing = Vanishing(server.port, vanish_limit)
    vanishing.start()
    try:
        report = e2e.run_wrk(wrk_command(server.port, seconds, connections, lua_path), seconds)
    finally:
        vanishing.stop.set()
        vanishing.join(CLIENT_TIMEOUT * 3)
    if vanishing.is_alive():
        raise RuntimeError("the vanishing clients did not stop")
    if server.exited():
        raise RuntimeError(f"the server exited during the load:\n{server.log()}")
    return report["requests"] + vanishing.count, report, vanishing


def verdict(samples):
    warm, last = samples[1], samples[-1]
    rss_growth = last["rss_kib"] - warm["rss_kib"]
    object_growth = last["objects"] - warm["objects"]
    flat = rss_growth <= RSS_FLAT_KIB and object_growth <= OBJECTS_FLAT
    return (f"{'FLAT' if flat else 'GROWING'}: after the warm-up phase, RSS {warm['rss_kib']} -> "
            f"{last['rss_kib']} KiB ({rss_growth:+d}), live objects {warm['objects']} -> {last['objects']} "
            f"({object_growth:+d}), open fds {warm['fds']} -> {last['fds']} "
            f"(flat: at most {RSS_FLAT_KIB} KiB and {OBJECTS_FLAT} objects)"), flat


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--phases", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    if args.phases < 2:
        parser.error("--phases must be at least 2: the first one is the warm-up")
    missing = e2e.missing_tools(["corn"])
    if missing:
        raise SystemExit(f"missing: {', '.join(missing)}")
    workdir = tempfile.mkdtemp(prefix="corn-leakcheck-")
    lua_path = os.path.join(workdir, "leak.lua")
    with open(lua_path, "w") as f:
        f.write(LUA)
    with LeakServer("corn", "leak", workdir) as server:
        samples = [sample(server, 0, 0, 0)]
        total, _, _ = phase(server, WARM_SECONDS, args.connections, lua_path, 200)
        rate = total / WARM_SECONDS
        seconds = max(1, min(MAX_PHASE_SECONDS, math.ceil((args.requests - total) / args.phases / rate)))
        print(f"warm-up: {total} requests in {WARM_SECONDS}s; {args.phases} phases of {seconds}s", flush=True)
        started = time.monotonic()
        wrk_total = vanished_total = errors_total = non_2xx_total = 0
        for number in range(1, 3 * args.phases + 1):  # more phases only if the rate fell
            done, report, vanishing = phase(server, seconds, args.connections, lua_path, 1 << 30)
            total += done
            wrk_total += report["requests"]
            vanished_total += vanishing.count
            errors_total += report["socket_errors"]
            non_2xx_total += report["non_2xx"]
            samples.append(sample(server, total, number, report["socket_errors"]))
            row = samples[-1]
            print(f"phase {number}: {total} requests, RSS {row['rss_kib']} KiB, {row['objects']} objects",
                  flush=True)
            if total >= args.requests and number >= args.phases:
                break
        elapsed = time.monotonic() - started
    print()
    print(e2e.markdown_table(
        ["phase", "requests so far", "worker RSS (KiB)", "live objects (since boot)", "frozen at boot",
         "open fds", "wrk socket errors"],
        [[str(s["phase"]), str(s["requests"]), str(s["rss_kib"]), str(s["objects"]), str(s["frozen"]),
          str(s["fds"]), str(s["wrk_errors"])] for s in samples],
    ))
    print()
    print(f"{total} requests in {elapsed:.0f}s after the warm-up: {wrk_total} from wrk "
          f"({non_2xx_total} answered 4xx/5xx, expected about {wrk_total * WRK_ERRORS_PER_12 // 12}; "
          f"{errors_total} socket errors, "
          f"the closes after them), {vanished_total} clients that vanished mid-body or mid-response")
    text, flat = verdict(samples)
    print(text)
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
