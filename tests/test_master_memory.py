"""The master stays flat over many worker restarts: its resident memory and its open file
descriptors (one heartbeat file per worker) do not grow with the number of workers it has
replaced."""

import os
import signal

from conftest import http_request, wait_for
from processes import open_fds, rss_kib

WARM_UP = 10
RESTARTS = 60
RSS_GROWTH_LIMIT_KB = 3 * 1024


def serving_pid(server):
    return int(http_request(server.port, "GET", "/pid").body)


def restart(server, round_number):
    """Kill the worker with SIGKILL (it has booted: it just answered) or, every other round,
    retire it with TTIN then TTOU; return once a new worker answers."""
    old = serving_pid(server)
    if round_number % 2:
        server.signal(signal.SIGTTIN)
        wait_for(lambda: len(server.booted_workers()) == 2, message="a second worker after TTIN")
        server.signal(signal.SIGTTOU)
        wait_for(lambda: old not in server.booted_workers(), message="the oldest worker retired")
    else:
        os.kill(old, signal.SIGKILL)
    wait_for(lambda: serving_pid(server) != old, interval=0.02,
             message=f"a new worker (round {round_number})")


def test_master_memory_and_descriptors_stay_flat(corn_server):
    server = corn_server("basic:app", "-w", "1", "-k", "sync")
    for n in range(WARM_UP):
        restart(server, n)
    rss_before, fds_before = rss_kib(server.pid), open_fds(server.pid)
    for n in range(RESTARTS):
        restart(server, n)
    wait_for(lambda: len(server.booted_workers()) == 1, message="one worker at the end")
    rss_after, fds_after = rss_kib(server.pid), open_fds(server.pid)
    assert rss_after - rss_before < RSS_GROWTH_LIMIT_KB, (rss_before, rss_after)
    assert fds_after == fds_before
    assert server.log().count("Booting worker with pid") >= WARM_UP + RESTARTS
    assert server.proc.poll() is None
