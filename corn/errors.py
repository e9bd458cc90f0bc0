"""Control-plane errors: configuration, application loading, and halting the master, and how a
value or an exception is shown in their one-line messages.

Plane: control.
"""

import inspect


class ConfigError(Exception):
    """A setting or a config file is wrong; the message is one line that says what is allowed."""


class AppImportError(Exception):
    """The WSGI application could not be imported or found."""


class HaltServer(Exception):
    def __init__(self, reason, exit_status=1):
        super().__init__(reason)
        self.reason = reason
        self.exit_status = exit_status


def show(value, limit=80):
    """A short one-line rendering of a value for messages."""
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismethod(value):
        text = f"<{'class' if inspect.isclass(value) else 'function'} {value.__qualname__}>"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(exc):
    return " ".join(f"{type(exc).__name__}: {exc}".split())
