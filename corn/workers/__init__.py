"""Worker classes by name: `-k gevent` (the default), `-k gthread`, `-k sync`, `-k eventlet` and
`-k tornado`, or a dotted path.

Plane: control.
"""

import importlib

WORKER_CLASSES = {
    "gevent": "corn.workers.ggevent.GeventWorker",
    "gthread": "corn.workers.gthread.ThreadWorker",
    "sync": "corn.workers.sync.SyncWorker",
    "eventlet": "corn.workers.geventlet.EventletWorker",
    "tornado": "corn.workers.gtornado.TornadoWorker",
}


def effective_worker_class(spec, threads, explicit):
    """What `worker_class` means with `threads`, as in gunicorn: more than one thread makes `sync`
    (and corn's default, when `worker_class` was not set) the gthread worker."""
    if threads > 1 and (spec == "sync" or (spec == "gevent" and not explicit)):
        return "gthread"
    return spec


def load_worker_class(spec):
    """The worker class for a name, a dotted path (`pkg.mod.Class`, `pkg.mod:Class`) or a class."""
    if isinstance(spec, type):
        return spec
    path = WORKER_CLASSES.get(spec, spec)
    module_name, sep, attr = path.replace(":", ".").rpartition(".")
    if not sep:
        raise ImportError(f"unknown worker class {spec!r} (expected one of {', '.join(WORKER_CLASSES)})")
    return getattr(importlib.import_module(module_name), attr)
