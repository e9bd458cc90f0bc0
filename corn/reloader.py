"""Development reloading (`--reload`): a worker stops when a file it runs from changes, and the
master starts a fresh one, which imports the new code.

Each worker runs one watcher in a thread of the operating system (a real one even under gevent's
monkey patching, so the checks never take the event loop's time). It watches the source file
of every loaded module, listed again on every check so that modules imported later count, and
`reload_extra_files`, whose glob patterns are expanded again on every check so that files made
later count. A file counts as changed when its mtime moves, or, the first time it is seen, when
its mtime is later than the watcher's start: so a module edited between the worker's start and
the first check, or a file created later that matches a pattern, is a change too (mtimes more
than FUTURE_SLACK ahead of the clock are taken as they are, or a skewed clock would restart
workers forever). On the first change it calls back once with the path and stops watching: the
worker logs "Worker reloading: PATH modified" and stops as on TERM.

Engines (`reload_engine`): `poll` stats every watched file once a second; `inotify` watches
their directories through the `inotify` package; `auto` is inotify when that package can be
imported and usable, else poll. When inotify was asked for and cannot be used, the watcher polls
and says so. (Under the gevent worker the package cannot work: gevent's monkey patching removes
`select.epoll`, which it needs.)

Plane: control.
"""

import glob
import os
import sys
import time

from corn.validators import is_glob

POLL_INTERVAL = 1.0  # seconds between two checks of the poll engine, and between directory refreshes
FUTURE_SLACK = 60.0  # seconds: an mtime further ahead than this is skew, not a change


def native_thread_tools():
    """(start_new_thread, sleep) of the operating system, even after gevent's monkey patching."""
    try:
        from gevent import monkey
    except ImportError:
        monkey = None
    if monkey is not None and monkey.is_module_patched("threading"):
        return monkey.get_original("_thread", "start_new_thread"), monkey.get_original("time", "sleep")
    import _thread

    return _thread.start_new_thread, time.sleep


def source_file(path):
    """The .py file behind a module's __file__ (which may name its compiled .pyc)."""
    return path[:-1] if path.endswith((".pyc", ".pyo")) else path


class Watcher:
    """Calls `callback(path)` once, from its own thread, when a watched file changes."""

    engine = "poll"

    def __init__(self, extra_files, callback, interval=POLL_INTERVAL):
        self.extra_files = {path for path in extra_files if not is_glob(path)}
        self.patterns = [path for path in extra_files if is_glob(path)]
        self.callback = callback
        self.interval = interval
        self.started = time.time()

    def add_extra_file(self, path):
        self.extra_files.add(path)

    def files(self):
        """Every path watched right now."""
        found = set(self.extra_files)
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                found.add(source_file(path))
        for pattern in self.patterns:
            found.update(glob.glob(pattern, recursive=True))
        return found

    def start(self):
        start_new_thread, self.sleep = native_thread_tools()
        start_new_thread(self.run, ())

    def run(self):
        changed = self.watch()
        if changed is not None:
            self.callback(changed)

    def baseline(self, mtime):
        """What a file first seen with `mtime` is compared with."""
        if self.started < mtime <= time.time() + FUTURE_SLACK:
            return self.started
        return mtime

    def watch(self):
        """Block until a watched file changes; returns its path."""
        mtimes = {}
        while True:
            for path in self.files():
                try:
                    mtime = os.stat(path).st_mtime
                except OSError:
                    continue
                previous = mtimes.get(path)
                if previous is None:
                    previous = mtimes[path] = self.baseline(mtime)
                if mtime != previous:
                    return path
            self.sleep(self.interval)


class InotifyWatcher(Watcher):
    """Watches the directories of the watched files through the `inotify` package."""

    engine = "inotify"

    def __init__(self, extra_files, callback, interval=POLL_INTERVAL):
        super().__init__(extra_files, callback, interval)
        import inotify.adapters
        import inotify.constants as flags

        self.mask = (flags.IN_CREATE | flags.IN_DELETE | flags.IN_MODIFY | flags.IN_MOVED_TO
                     | flags.IN_MOVED_FROM | flags.IN_CLOSE_WRITE)
        self.inotify = inotify.adapters.Inotify(block_duration_s=interval)
        self.directories = set()

    def refresh(self):
        """Watch the directories of the files watched now; returns one of those files that
        changed before its directory was watched (see `baseline`), and the real paths of all."""
        files = self.files()
        for directory in {os.path.dirname(os.path.realpath(path)) for path in files} - self.directories:
            if os.path.isdir(directory):
                self.inotify.add_watch(directory, mask=self.mask)
                self.directories.add(directory)
        changed = None
        for path in files - self.seen:
            self.seen.add(path)
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            if self.baseline(mtime) != mtime:
                changed = path
        return changed, {os.path.realpath(path) for path in files}

    def watch(self):
        self.seen = set()
        changed, watched = self.refresh()
        if changed is not None:
            return changed
        for event in self.inotify.event_gen(yield_nones=True):
            if event is None:
                changed, watched = self.refresh()
                if changed is not None:
                    return changed
                continue
            _, _, directory, name = event
            path = os.path.join(directory, name)
            if name and path in watched:
                return path
        return None


def inotify_available():
    try:
        import inotify.adapters  # noqa: F401
    except ImportError:
        return False
    return True


def make_watcher(cfg, log, callback):
    """The watcher `cfg.reload_engine` asks for, falling back to poll when inotify cannot be used."""
    explicit = cfg.reload_engine == "inotify"
    if explicit or (cfg.reload_engine == "auto" and inotify_available()):
        try:
            return InotifyWatcher(cfg.reload_extra_files, callback)
        except Exception as exc:  # no package; or gevent removed select.epoll, which the package needs
            say = log.warning if explicit else log.debug
            say("reload_engine inotify is not available (%s: %s); polling instead", type(exc).__name__, exc)
    return Watcher(cfg.reload_extra_files, callback)
