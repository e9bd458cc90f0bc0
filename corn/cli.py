"""The `corn` command: the command line and the environment, resolved into a Config, then the server.

Sources apply in gunicorn's order, each overriding the one before: the registry's defaults, the
config file, `GUNICORN_CMD_ARGS`, `CORN_CMD_ARGS`, the command line. The config file is the `-c`
of the command line, else the `-c` of `CORN_CMD_ARGS` or `GUNICORN_CMD_ARGS`, else
`./corn.conf.py`, else `./gunicorn.conf.py`. The flags are derived from the registry, with
gunicorn's spellings, so a gunicorn command line works unchanged.

Every mistake in the configuration is reported as ONE line on stderr, `corn: error: ...`, saying
what is wrong and what is allowed, and the command exits with status 2.

Plane: control.
"""

import argparse
import difflib
import os
import shlex
import sys
import traceback

from corn import __version__, importpaths
from corn.config import Config
from corn.errors import AppImportError, ConfigError
from corn.settings import SETTINGS

ENV_SOURCES = ("GUNICORN_CMD_ARGS", "CORN_CMD_ARGS")  # lowest precedence first
DEFAULT_CONFIG_FILES = ("./corn.conf.py", "./gunicorn.conf.py")
USAGE_EXIT = 2


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises ConfigError instead of printing usage and exiting."""

    def error(self, message):
        raise ConfigError(self._with_hint(message))

    def _with_hint(self, message):
        if not message.startswith("unrecognized arguments:"):
            return message
        unknown = next((word for word in message.split()[2:] if word.startswith("-")), None)
        flags = [flag for action in self._actions for flag in action.option_strings]
        matches = difflib.get_close_matches(unknown.split("=")[0], flags, n=1) if unknown else []
        hint = f"did you mean {matches[0]}?" if matches else "see corn --help"
        return f"{message} ({hint})"


def _help(setting):
    default = setting.default_doc or repr(setting.default)
    return f"{setting.summary} [{default.replace('`', '')}]".replace("%", "%%")


def make_parser():
    """The argument parser, one option per setting that has flags, in registry order."""
    parser = ArgumentParser(
        prog="corn",
        usage="%(prog)s [OPTIONS] [APP_MODULE]",
        description="A pre-fork WSGI HTTP/1.1 server. Settings: docs/settings.md.",
    )
    parser.add_argument(
        "-v",
        "--version",
        action="version",
        version=f"%(prog)s (version {__version__})",
        help="print the version and exit",
    )
    parser.add_argument(
        "app_module",
        nargs="?",
        metavar="APP_MODULE",
        default=None,
        help="the WSGI application, MODULE:VARIABLE (or a factory call, MODULE:create_app())",
    )
    for setting in SETTINGS:
        if not setting.cli:
            continue
        options = {"dest": setting.name, "action": setting.action, "default": None, "help": _help(setting)}
        if setting.action in ("store", "append"):
            options["metavar"] = setting.meta or setting.name.upper()
        if setting.nargs is not None:
            options["nargs"] = setting.nargs
        if setting.action == "store_const" or setting.nargs is not None:
            options["const"] = setting.const
        parser.add_argument(*setting.cli, **options)
    return parser


def _parse(parser, args, source=None):
    try:
        return parser.parse_args(args)
    except ConfigError as exc:
        if source is None:
            raise
        raise ConfigError(f"in {source}: {exc}") from None


def _apply(cfg, namespace, source=None):
    """Set every option given in `namespace` (argparse leaves the others None)."""
    suffix = f" in {source}" if source else ""
    for setting in SETTINGS:
        value = getattr(namespace, setting.name, None) if setting.cli else None
        if value is not None:
            cfg.set(setting.name, value, label=setting.flag + suffix)


def default_config_file():
    """./corn.conf.py when it exists, else ./gunicorn.conf.py when it exists, else None."""
    return next((path for path in DEFAULT_CONFIG_FILES if os.path.isfile(path)), None)


def build_config(argv=None, environ=None):
    """The Config for a command line and an environment (default: this process's). Raises ConfigError.

    `--help` and `--version` print and raise SystemExit(0), as argparse does.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    environ = os.environ if environ is None else environ
    parser = make_parser()
    command_line = _parse(parser, argv)
    from_env = []
    for source in ENV_SOURCES:
        if environ.get(source, "").strip():
            try:
                words = shlex.split(environ[source])
            except ValueError as exc:
                raise ConfigError(f"in {source}: {exc} (expected shell-quoted options)") from None
            from_env.append((source, _parse(parser, words, source)))

    cfg = Config(environ)
    if command_line.app_module:
        cfg.set("default_proc_name", command_line.app_module, label="APP_MODULE")

    config_file = command_line.config
    for _, namespace in reversed(from_env):
        config_file = config_file or namespace.config
    config_file = config_file or default_config_file()
    if config_file:
        _paths_for_config_file(command_line, [namespace for _, namespace in from_env])
        cfg.load_file(config_file)
        cfg.set("config", config_file)

    for source, namespace in from_env:
        _apply(cfg, namespace, source)
    _apply(cfg, command_line)
    if command_line.app_module:
        cfg.set("wsgi_app", command_line.app_module, label="APP_MODULE")
    return cfg


def _paths_for_config_file(command_line, env_namespaces):
    """Put the working directory, and the chdir and pythonpath given outside the config file,
    on sys.path, so the config file can import modules from them (as under gunicorn)."""
    importpaths.add(os.getcwd())
    chdir = pythonpath = None
    for namespace in env_namespaces + [command_line]:
        chdir = namespace.chdir or chdir
        pythonpath = namespace.pythonpath or pythonpath
    chdir = os.path.abspath(chdir) if chdir and os.path.isdir(chdir) else os.getcwd()
    importpaths.add(chdir, pythonpath)


def check_classes(cfg):
    """Import the worker class and the logger class the settings name, with chdir and
    pythonpath on sys.path; ConfigError (one line) when either cannot be used."""
    from corn.arbiter import load_logger_class
    from corn.logbridge import logger_kind
    from corn.workers.compat import check_worker_class

    importpaths.add(cfg.chdir, cfg.pythonpath)
    check_worker_class(cfg.worker_class_spec)
    logger_kind(load_logger_class(cfg.logger_class, cfg.statsd_host))


def format_config(cfg):
    """`name = value` for every setting, sorted by name and aligned, as gunicorn prints them."""
    values = cfg.to_dict()
    width = max(len(name) for name in values)
    lines = []
    for name in sorted(values):
        value = values[name]
        if callable(value):
            value = f"<{getattr(value, '__qualname__', type(value).__name__)}()>"
        lines.append(f"{name:{width}} = {value}")
    return "\n".join(lines)


def _fail(message, status=USAGE_EXIT):
    print(f"corn: error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
    sys.exit(status)


def main(argv=None):
    """Run the `corn` command; exits with 2 on a configuration error, 1 when --check-config fails."""
    try:
        cfg = build_config(argv)
    except ConfigError as exc:
        _fail(exc)
    for warning in cfg.warnings:
        print(f"corn: warning: {warning}", file=sys.stderr, flush=True)

    if cfg.print_config:
        print(format_config(cfg), flush=True)
        sys.exit(0)
    if not cfg.wsgi_app:
        _fail("no application module specified (expected APP_MODULE such as myapp:app, or wsgi_app)")
    try:
        check_classes(cfg)
    except ConfigError as exc:
        _fail(exc)

    from corn.app import WSGIApplication

    if cfg.check_config:
        try:
            # wsgi() changes into chdir, then calls load_wsgi_app(cfg.wsgi_app).
            WSGIApplication(cfg).wsgi()
        except AppImportError as exc:
            _fail(exc, status=1)
        except Exception as exc:
            traceback.print_exc()
            _fail(f"failed to load application {cfg.wsgi_app!r}: {type(exc).__name__}: {exc}", status=1)
        sys.exit(0)

    from corn.arbiter import Arbiter

    # HUP re-reads the same sources: this command line and the environment at that time.
    Arbiter(cfg, reload_config=lambda: build_config(argv), app=WSGIApplication(cfg)).run()
