"""Worker classes by name: `-k gevent` (the default) and `-k sync`, or a dotted path to a class."""

import importlib

WORKER_CLASSES = {
    "gevent": "corn.workers.ggevent.GeventWorker",
    "sync": "corn.workers.sync.SyncWorker",
}


def load_worker_class(spec):
    """The worker class for a name, a dotted path (`pkg.mod.Class`, `pkg.mod:Class`) or a class."""
    if isinstance(spec, type):
        return spec
    path = WORKER_CLASSES.get(spec, spec)
    module_name, sep, attr = path.replace(":", ".").rpartition(".")
    if not sep:
        raise ImportError(f"unknown worker class {spec!r} (expected one of {', '.join(WORKER_CLASSES)})")
    return getattr(importlib.import_module(module_name), attr)
