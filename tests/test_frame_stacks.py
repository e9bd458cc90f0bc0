"""The gevent worker keeps the frame stack chunks of ended greenlets for the next ones
(`corn._gevent_io.keep_frame_stacks`): the interpreter must run exactly as before, under many
greenlets whose stacks take many chunks at once, mixed with threads and with ordinary arenas."""

import subprocess
import sys
import textwrap

from conftest import DEADLINE, server_env

STRESS = textwrap.dedent('''
    import sys
    import threading

    import gevent
    from corn._gevent_io import keep_frame_stacks

    keep_frame_stacks()
    keep_frame_stacks()  # a second call changes nothing
    sys.setrecursionlimit(10000)

    def depth(n):
        if n == 0:
            gevent.sleep(0)  # every greenlet parked at its deepest: all their chunks in use at once
            return 0
        return 1 + depth(n - 1)

    def wave(count):
        jobs = [gevent.spawn(depth, (i * 37) % 2500) for i in range(count)]
        gevent.joinall(jobs, timeout=120)
        assert [job.value for job in jobs] == [(i * 37) % 2500 for i in range(count)]
        junk = [list(range(i % 50)) for i in range(200000)]  # ordinary arenas, taken and given back
        del junk

    results = []
    thread = threading.Thread(target=lambda: results.append(sum(range(100000))))
    for _ in range(3):
        wave(600)
    thread.start()
    thread.join(60)
    assert results == [sum(range(100000))]
    print("ok")
''')


def test_interpreter_runs_unchanged_with_kept_frame_stacks(tmp_path):
    # run outside the checkout, so `corn` is the package the tests import (built or installed)
    out = subprocess.run([sys.executable, "-c", STRESS], capture_output=True, text=True,
                         timeout=DEADLINE * 3, env=server_env(), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
