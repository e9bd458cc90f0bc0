"""`corn.run(app, **settings)`: serve a WSGI app from a program of one's own, in one call.

    import corn
    from myproject import app

    corn.run(app, bind="0.0.0.0:8080", workers=4)

`app` is a WSGI callable, or an app URI as on the command line ("myproject.wsgi",
"myproject:create_app()"). Settings are keyword arguments named and valued as in a config file.
The calling process becomes the master: `run()` forks the workers and returns only by exiting.
Nothing but the arguments configures it: the command line, config files and `GUNICORN_CMD_ARGS`
belong to the calling program and are not read (the defaults still read `PORT` and
`WEB_CONCURRENCY`). A USR2 re-exec runs the calling program again, so it must reach the same call.

Plane: control.
"""

from corn.app import BaseApplication, WSGIApplication


class EmbeddedApplication(BaseApplication):
    """The BaseApplication behind `run()`: settings from a dict, the app given or named."""

    def __init__(self, app, settings):
        self.target = app
        self.settings = dict(settings)
        super().__init__()

    def load_config(self):
        for name, value in self.settings.items():
            self.cfg.set(name, value)
        if isinstance(self.target, str):
            self.cfg.set("wsgi_app", self.target)
            self.cfg.set("default_proc_name", self.target)

    def load(self):
        if isinstance(self.target, str):
            return WSGIApplication(self.cfg).wsgi()  # chdir and pythonpath apply, as on the command line
        return self.target


def run(app, **settings):
    """Serve `app` (a WSGI callable or an app URI) with `settings`; never returns."""
    if not (isinstance(app, str) or callable(app)):
        raise TypeError(f"corn.run() needs a WSGI callable or an app URI such as 'module:app', not {app!r}")
    EmbeddedApplication(app, settings).run()
