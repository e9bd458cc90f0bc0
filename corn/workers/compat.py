"""Worker classes named by `worker_class`: checked once, in the master, before any worker forks.

A class must construct as gunicorn's and corn's workers do, `(age, ppid, sockets, app, timeout,
cfg, log)`, and have `init_process()`; anything else is one error line naming what is missing.

A class written for gunicorn (a subclass of `gunicorn.workers.base.Worker`, such as gunicorn's
own sync and gevent workers or uvicorn's `UvicornWorker`) gets what gunicorn's master would
give it: corn's `cfg`, which has every gunicorn setting under its name plus `settings`,
`is_ssl`, `address`, `env`, `uid`, `gid`, `worker_class_str` and `forwarded_allow_networks()`;
the master's listeners, which answer to gunicorn's `FAMILY` and `sock` and pass every other
attribute to the socket; a logger whose `access()` takes gunicorn's `(resp, req, environ,
request_time)` (`corn.logbridge`); and its own signal handlers, installed by its own
`init_signals()`. Such a worker parses requests with gunicorn's code, not corn's.

Plane: control.
"""

import inspect
import sys

from corn.errors import ConfigError, one_line, show
from corn.workers import load_worker_class

WORKER_ARGUMENTS = "(age, ppid, sockets, app, timeout, cfg, log)"


def is_gunicorn_worker(cls):
    """Whether `cls` subclasses gunicorn's Worker (it then gets gunicorn's interfaces)."""
    base = sys.modules.get("gunicorn.workers.base")
    return base is not None and isinstance(cls, type) and issubclass(cls, base.Worker)


def import_worker_class(spec):
    """The class `spec` names, imported; ConfigError in one line when it cannot be."""
    try:
        return load_worker_class(spec)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"Invalid value for worker_class: {show(spec)} ({one_line(exc)})") from None


def check_worker_class(spec):
    """The worker class `spec` names, imported and checked; ConfigError in one line otherwise."""
    cls = import_worker_class(spec)
    problem = _problem(cls)
    if problem is not None:
        raise ConfigError(f"Invalid value for worker_class: {show(spec)} ({problem})")
    return cls


def _problem(cls):
    if not isinstance(cls, type):
        return f"{type(cls).__name__} is not a class"
    if not callable(getattr(cls, "init_process", None)):
        return (
            f"{cls.__qualname__} is not a worker class: it has no init_process() "
            f"(expected a subclass of corn.workers.base.Worker or gunicorn.workers.base.Worker)"
        )
    try:
        inspect.signature(cls).bind(*range(7))
    except TypeError:
        return f"{cls.__qualname__}() does not take a worker's arguments {WORKER_ARGUMENTS}"
    except ValueError:
        pass  # no signature to read (a class implemented in C): let it try
    return None
