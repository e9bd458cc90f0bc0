"""Finding the WSGI application named by an app URI, and keeping it once found.

The URI is gunicorn's: `module[:expr]`, where `expr` defaults to `application` and is either a
plain name or a call with literal arguments (`pkg.app:create_app("prod", debug=False)`), parsed
with `ast`, never evaluated. Every failure raises `AppImportError` with a message that names what
was tried and, when the module itself raised, the original traceback text, so the operator sees
the real cause in the master's output (an `ImportError` deep inside the app stays readable).

`WSGIApplication` is what the arbiter hands to workers: `wsgi()` loads once and caches, so an app
preloaded in the master is inherited by every forked worker; `reload()` forgets it.

`BaseApplication` is gunicorn's custom-application pattern, for programs that start the server
themselves: subclass it, set settings in `load_config()` with `self.cfg.set(name, value)`,
return the WSGI app from `load()`, and call `run()`. The configuration starts from the
defaults alone (and the environment they read, such as `PORT`): no command line, no config
file, no `GUNICORN_CMD_ARGS`. A HUP runs `load_config()` again on fresh defaults.

Plane: control.
"""

import abc
import ast
import importlib
import inspect
import os
import sys
import traceback

from corn import importpaths
from corn.config import Config
from corn.errors import AppImportError, ConfigError

DEFAULT_NAME = "application"


def parse_app_uri(uri):
    """Split `module[:expr]` into (module, name, args, kwargs); args is None for a plain name."""
    module, sep, expr = uri.partition(":")
    if not module:
        raise AppImportError(f"Invalid app URI {uri!r} (expected MODULE or MODULE:NAME)")
    if not sep:
        expr = DEFAULT_NAME
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        raise AppImportError(f"Failed to parse {expr!r} as an attribute name or function call.") from None
    if isinstance(node, ast.Name):
        return module, node.id, None, None
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise AppImportError(f"Function reference must be a simple name: {expr!r}")
        try:
            args = [ast.literal_eval(arg) for arg in node.args]
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
        except ValueError:
            raise AppImportError(f"Failed to parse arguments as literal values: {expr!r}") from None
        if any(key is None for key in kwargs):
            raise AppImportError(f"Failed to parse arguments as literal values: {expr!r}")
        return module, node.func.id, args, kwargs
    raise AppImportError(f"Failed to parse {expr!r} as an attribute name or function call.")


def load_wsgi_app(uri):
    """The WSGI callable named by `uri`; raises AppImportError on any failure."""
    if not uri:
        raise AppImportError("No application module specified.")
    module_name, name, args, kwargs = parse_app_uri(uri)
    module = _import_module(module_name, name)
    try:
        app = getattr(module, name)
    except AttributeError:
        raise AppImportError(f"Failed to find attribute {name!r} in {module_name!r}.") from None
    if args is not None:
        app = _call_factory(app, name, args, kwargs)
    if app is None:
        raise AppImportError(f"Failed to find application object: {name!r} in {module_name!r} is None.")
    if not callable(app):
        raise AppImportError(f"Application object must be callable: {name!r} in {module_name!r} is not.")
    return app


def _import_module(module_name, name):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if _names_module_itself(exc, module_name):
            hint = ""
            if module_name.endswith(".py"):
                hint = f" Did you mean '{module_name[:-3].replace(os.sep, '.')}:{name}'?"
            raise AppImportError(f"Failed to find application module {module_name!r}: {exc}.{hint}") from exc
        raise AppImportError(_failure(f"Failed to import application module {module_name!r}", exc)) from exc
    except Exception as exc:
        raise AppImportError(_failure(f"Failed to import application module {module_name!r}", exc)) from exc


def _names_module_itself(exc, module_name):
    """True when the module (or one of its parent packages) does not exist, as opposed to an
    import inside the module failing."""
    missing = exc.name or ""
    return missing == module_name or module_name.startswith(missing + ".")


def _call_factory(factory, name, args, kwargs):
    try:
        return factory(*args, **kwargs)
    except TypeError as exc:
        if _wrong_arguments(factory, args, kwargs):
            message = "".join(traceback.format_exception_only(TypeError, exc)).strip()
            raise AppImportError(f"Failed to call application factory {name!r}: {message}") from exc
        raise AppImportError(_failure(f"Application factory {name!r} failed", exc)) from exc
    except Exception as exc:
        raise AppImportError(_failure(f"Application factory {name!r} failed", exc)) from exc


def _wrong_arguments(factory, args, kwargs):
    """True when `factory(*args, **kwargs)` cannot bind, i.e. the TypeError is about the call itself."""
    try:
        inspect.signature(factory).bind(*args, **kwargs)
    except TypeError:
        return True
    except ValueError:
        return False
    return False


def _failure(headline, exc):
    """The headline plus the traceback of `exc` from the first frame outside this module and importlib."""
    tb = exc.__traceback__
    while tb is not None and _is_loader_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()
    return f"{headline}:\n{text}"


_IMPORTLIB_DIR = os.path.dirname(importlib.__file__) + os.sep


def _is_loader_frame(filename):
    return filename == __file__ or filename.startswith(("<frozen importlib", _IMPORTLIB_DIR))


class WSGIApplication:
    """The app named by `cfg.wsgi_app`, loaded on first use and cached until `reload()`."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.callable = None

    def wsgi(self):
        if self.callable is None:
            self.prepare_paths()
            self.callable = load_wsgi_app(self.cfg.wsgi_app)
        return self.callable

    def reload(self):
        self.callable = None

    def prepare_paths(self):
        """Change into `chdir` and put it and `pythonpath` at the front of sys.path."""
        importpaths.enter(self.cfg)


class BaseApplication(abc.ABC):
    """An application that configures itself: override `load_config()` and `load()`, then `run()`.

    `run()` makes this process the master and never returns. A setting that is unknown or has
    a bad value, in `load_config()`, prints one line and exits with status 1, as gunicorn does.
    """

    def __init__(self, usage=None, prog=None):
        self.usage = usage
        self.prog = prog
        self.cfg = None
        self.callable = None
        self.do_load_config()

    def do_load_config(self):
        try:
            self.cfg = self.fresh_config()
        except ConfigError as exc:
            print(f"\nError: {exc}", file=sys.stderr, flush=True)
            sys.exit(1)

    def fresh_config(self):
        """The defaults, then what `load_config()` sets. Raises ConfigError."""
        current = self.cfg
        self.cfg = self.load_default_config()
        try:
            self.load_config()
            return self.cfg
        finally:
            self.cfg = current

    def load_default_config(self):
        return Config()

    def load_config(self):
        """Set settings with `self.cfg.set(name, value)`; the default sets none."""

    @abc.abstractmethod
    def load(self):
        """Return the WSGI application."""

    def wsgi(self):
        if self.callable is None:
            self.callable = self.load()
        return self.callable

    def reload(self):
        """Forget the loaded app: the next workers call `load()` again."""
        self.callable = None

    def run(self):
        from corn.arbiter import Arbiter

        for warning in self.cfg.warnings:
            print(f"corn: warning: {warning}", file=sys.stderr, flush=True)
        Arbiter(self.cfg, reload_config=self.fresh_config, app=self).run()
