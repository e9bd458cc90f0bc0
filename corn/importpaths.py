"""Where the modules the configuration names are found: the working directory, `chdir` and
`pythonpath` on `sys.path` before anything is imported by name.

As in gunicorn, a config file can import a module beside it in the working directory
(`import confhelper` in `gunicorn.conf.py`), and the logger class, the worker class and the
app are imported with `chdir` and `pythonpath` already on `sys.path`. That takes two steps,
because a config file may itself set `chdir` or `pythonpath`:

- before the config file runs: the working directory, and the `chdir` and `pythonpath` given
  on the command line or in `GUNICORN_CMD_ARGS`/`CORN_CMD_ARGS`;
- once every source is read: the resolved `chdir` and `pythonpath`.

`add()` only changes `sys.path`; `enter()` also changes into `chdir`, which is where the app
is loaded (in the master with `preload_app` or `--check-config`, else in each worker).
Entries go to the front: the `pythonpath` entries in their order, then `chdir`. A relative
`pythonpath` entry is relative to `chdir`. An entry already on `sys.path` stays where it is.

Plane: control.
"""

import os
import sys


def entries(chdir, pythonpath=None):
    """The directories to put first on sys.path, in order."""
    found = []
    for path in (pythonpath or "").split(","):
        path = path.strip()
        if path:
            found.append(os.path.abspath(os.path.join(chdir, path)))
    found.append(os.path.abspath(chdir))
    return found


def add(chdir, pythonpath=None):
    """Put `pythonpath` and `chdir` at the front of sys.path."""
    for path in reversed(entries(chdir, pythonpath)):
        if path not in sys.path:
            sys.path.insert(0, path)


def enter(cfg):
    """Change into `cfg.chdir` and put it and `cfg.pythonpath` on sys.path."""
    os.chdir(cfg.chdir)
    add(cfg.chdir, cfg.pythonpath)
