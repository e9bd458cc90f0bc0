"""The resolved configuration: one value per setting of the registry, and what the server derives from them.

A `Config` starts from the registry's defaults (some read from the environment it is given:
`PORT`, `WEB_CONCURRENCY`, `FORWARDED_ALLOW_IPS`). Values only change through `set()` or
`load_file()`, which validate them, so every value read back has passed its validator. Reading
`cfg.NAME` gives the value of a setting; a few names are derived instead, as in gunicorn:
`worker_class` is the class (`worker_class_str` its name), `sendfile` resolves `SENDFILE`, and
`address`, `env`, `uid`, `gid`, `proc_name`, `is_ssl`, `ssl_options` are read-only properties.

Problems that must stop the server raise `ConfigError` with a one-line message. Problems that
need not (an unknown name in a config file, a setting corn does not implement) are collected as
one-line strings in `warnings`.

Plane: control.
"""

import ast
import difflib
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys

from corn import validators
from corn.errors import ConfigError, one_line, show
from corn.peers import allow_networks
from corn.settings import BY_NAME, REMOVED, SETTINGS


class SettingValue:
    """gunicorn's `cfg.settings[name]` shape (`.value`, `.get()`), read by third-party workers."""

    __slots__ = ("name", "section", "value")

    def __init__(self, name, section, value):
        self.name = name
        self.section = section
        self.value = value

    def get(self):
        return self.value

    def __repr__(self):
        return f"<setting {self.name} = {show(self.value)}>"


def closest_setting(name):
    matches = difflib.get_close_matches(name.lower(), BY_NAME, n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_setting(name):
    match = closest_setting(name)
    hint = f"did you mean {match!r}?" if match else "see `corn --help` or docs/settings.md"
    return f"unknown setting {name!r}; {hint}"


class Config:
    def __init__(self, environ=None):
        environ = dict(os.environ if environ is None else environ)
        values = {}
        for setting in SETTINGS:
            raw = setting.default_from(environ) if setting.default_from else setting.default
            if isinstance(raw, (list, dict)):
                raw = raw.copy()
            try:
                values[setting.name] = setting.validator(raw)
            except validators.Invalid as exc:
                label = f"the default of {setting.name} (from the environment)"
                raise ConfigError(f"Invalid value for {label}: {show(raw)} ({exc})") from None
        object.__setattr__(self, "_environ", environ)
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_defaults", dict(values))
        object.__setattr__(self, "_notes", [])
        object.__setattr__(self, "_explicit", set())  # the names set() stored a value for

    # --- reading ----------------------------------------------------------------------------

    def __getattr__(self, name):
        # Only called when normal lookup fails, so properties below win over raw values.
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no setting named {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError(f"Config is read-only; use cfg.set({name!r}, value)")

    def get(self, name):
        """The value of a setting as stored, even where an attribute of that name is derived."""
        if name not in self._values:
            raise ConfigError(unknown_setting(name))
        return self._values[name]

    def is_default(self, name):
        return self._values[name] == self._defaults[name]

    def to_dict(self):
        """Every setting's value, in registry order."""
        return dict(self._values)

    @property
    def settings(self):
        return {s.name: SettingValue(s.name, s.section, self._values[s.name]) for s in SETTINGS}

    @property
    def environ(self):
        """The environment the defaults were read from (a copy)."""
        return dict(self._environ)

    # --- changing ---------------------------------------------------------------------------

    def set(self, name, value, label=None):
        """Validate and store one setting; `label` names the source in error messages."""
        setting = BY_NAME.get(name)
        if setting is None:
            if name in REMOVED:
                self._note(f"{label or name} {REMOVED[name]}; ignored")
                return
            raise ConfigError(unknown_setting(name))
        try:
            value = setting.validator(value)
        except validators.Invalid as exc:
            raise ConfigError(f"Invalid value for {label or name}: {show(value)} ({exc})") from None
        self._values[name] = value
        self._explicit.add(name)

    def _note(self, message):
        if message not in self._notes:
            self._notes.append(message)

    def load_file(self, location):
        """Read a gunicorn-style config file: `PATH`, `file:PATH` or `python:MODULE`."""
        namespace, imported = self._read_config(location)
        for name, value in namespace.items():
            if name in BY_NAME:
                self.set(name, value, label=f"{name} in {location}")
            elif name in REMOVED:
                self.set(name, value, label=f"{name} in {location}")
            elif name.startswith("_") or name in imported or inspect.ismodule(value):
                continue
            else:
                self._note(f"{location}: {unknown_setting(name)}")

    def _read_config(self, location):
        """The namespace the config defines, and the names it bound by importing."""
        if location.startswith("python:"):
            module_name = location[len("python:") :]
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:
                raise ConfigError(f"Failed to read config file {location}: {one_line(exc)}") from None
            source_path = getattr(module, "__file__", None) or ""
            source = None
            if source_path.endswith(".py"):
                with open(source_path, encoding="utf-8") as f:
                    source = f.read()
            return vars(module), imported_names(source)

        path = location[len("file:") :] if location.startswith("file:") else location
        if not os.path.isfile(path):
            raise ConfigError(
                f"Config file not found: {path!r} (expected an existing PATH, file:PATH or python:MODULE)"
            )
        try:
            loader = importlib.machinery.SourceFileLoader("__config__", path)
            spec = importlib.util.spec_from_file_location("__config__", path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            sys.modules["__config__"] = module
            loader.exec_module(module)
            with open(path, encoding="utf-8") as f:
                source = f.read()
        except Exception as exc:
            raise ConfigError(f"Failed to read config file {path}: {one_line(exc)}") from None
        return vars(module), imported_names(source)

    # --- derived values ---------------------------------------------------------------------

    @property
    def warnings(self):
        """One-line warnings: unknown or removed names read, and settings corn ignores."""
        found = list(self._notes)
        for setting in SETTINGS:
            if not setting.unsupported or self.is_default(setting.name):
                continue
            value = self._values[setting.name]
            if setting.implemented is not None and setting.implemented(value):
                continue
            found.append(f"{setting.name} = {show(value)} has no effect: {setting.unsupported}")
        spec = self.worker_class_spec
        if self._values["threads"] > 1 and spec in ("gevent", "sync", "eventlet"):
            found.append(f"threads = {self._values['threads']} has no effect: the {spec} worker is not "
                         f"threaded (use -k gthread, or worker_connections with {spec})")
        if spec == "eventlet":
            found.append("worker_class = eventlet: eventlet is in maintenance mode upstream; the gevent "
                         "worker serves the same way and is maintained (docs/workers.md)")
        return found

    @property
    def address(self):
        """Each bind parsed: (host, port) for TCP, a str path for unix:PATH, an int for fd://N."""
        return [validators.parse_address(bind) for bind in self._values["bind"]]

    @property
    def is_ssl(self):
        return bool(self._values["certfile"] or self._values["keyfile"])

    @property
    def ssl_options(self):
        return {s.name: self._values[s.name] for s in SETTINGS if s.section == "SSL"}

    @property
    def env(self):
        """raw_env as a dict."""
        return dict(item.split("=", 1) for item in self._values["raw_env"])

    @property
    def uid(self):
        return self._values["user"]

    @property
    def gid(self):
        return self._values["group"]

    @property
    def proc_name(self):
        name = self._values["proc_name"]
        return name if name is not None else self._values["default_proc_name"]

    @property
    def worker_class_spec(self):
        """The worker_class value that applies: `gthread` where `threads` turns `sync` or the unset
        default into it."""
        from corn.workers import effective_worker_class

        return effective_worker_class(
            self._values["worker_class"], self._values["threads"], "worker_class" in self._explicit
        )

    @property
    def worker_class_str(self):
        spec = self.worker_class_spec
        return spec if isinstance(spec, str) else spec.__name__

    @property
    def worker_class(self):
        """The worker class, imported now; its `setup()` classmethod is called when it has one.
        More than one thread makes `sync` and the unset default `gthread`, as in gunicorn."""
        from corn.workers.compat import import_worker_class

        cls = import_worker_class(self.worker_class_spec)
        if hasattr(cls, "setup"):
            cls.setup()
        return cls

    @property
    def sendfile(self):
        """False after --no-sendfile; otherwise $SENDFILE decides when set (y, 1, yes, true); else True."""
        if self._values["sendfile"] is not None:
            return False
        if "SENDFILE" in self._environ:
            return self._environ["SENDFILE"].lower() in ("y", "1", "yes", "true")
        return True

    def forwarded_allow_networks(self):
        """forwarded_allow_ips as ip_network objects, or ANY_NETWORK for '*'."""
        return allow_networks(self._values["forwarded_allow_ips"])

    def proxy_allow_networks(self):
        """proxy_allow_ips as ip_network objects, or ANY_NETWORK for '*'."""
        return allow_networks(self._values["proxy_allow_ips"])


def imported_names(source):
    """Names a config file binds with import statements (they are not settings, just tools)."""
    if source is None:
        return frozenset()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return frozenset()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
    return frozenset(names)
