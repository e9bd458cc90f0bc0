"""Runs a WSGI app on a server that has no command line of its own (perf/e2e.py starts it this way).

    python3 perf/run_server.py bjoern|fastwsgi MODULE:CALLABLE HOST PORT

One process, serving until SIGINT: bjoern (C, libev) with `bjoern.run`, fastwsgi (C, libuv) with its
one-worker server, TCP_NODELAY on as corn and gunicorn set it (fastwsgi's default is off).
"""

import importlib
import sys


def load(target):
    """The callable named by `MODULE:CALLABLE` (the callable may be dotted)."""
    module_name, _, name = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def run_bjoern(app, host, port):
    import bjoern

    bjoern.run(app, host, port)


def run_fastwsgi(app, host, port):
    import fastwsgi

    fastwsgi.server.tcp_nodelay = 1
    fastwsgi.server.init(app, host, port, loglevel=fastwsgi.LL_WARNING, workers=1)
    fastwsgi.server.run()


RUNNERS = {"bjoern": run_bjoern, "fastwsgi": run_fastwsgi}


def main(argv):
    if len(argv) != 4 or argv[0] not in RUNNERS:
        raise SystemExit(__doc__.split("\n\n")[1])
    server, target, host, port = argv
    try:
        RUNNERS[server](load(target), host, int(port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
