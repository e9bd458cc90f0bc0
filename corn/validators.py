"""Small pure functions that check and normalise one setting's value.

Each validator takes the raw value (a string from the command line or the environment, or any
Python object from a config file) and returns the value the server uses. A refused value raises
`Invalid`, whose message says what was expected in a few words ("expected a positive integer or
0"); `Config.set` adds the setting's name and the value to make the one-line error users see.
The accepted forms follow gunicorn 27's validators, so a gunicorn config file means the same here.

Plane: control.
"""

import grp
import importlib
import inspect
import ipaddress
import os
import pwd
import re


class Invalid(ValueError):
    """A refused value; the message says what is allowed, e.g. "expected a positive integer"."""


# --- scalars --------------------------------------------------------------------------------


def pos_int(value):
    """A non-negative integer; strings in any base `int(x, 0)` understands ("10", "0x10")."""
    if isinstance(value, bool) or isinstance(value, int):
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip(), 0)
        except ValueError:
            raise Invalid("expected a positive integer or 0") from None
    else:
        raise Invalid("expected a positive integer or 0")
    if number < 0:
        raise Invalid("expected a positive integer or 0")
    return number


def auto_int(value):
    """A non-negative integer where a leading 0 means octal, as for a umask ("022", "0o22", "18")."""
    if isinstance(value, str):
        text = value.strip()
        if re.match(r"0\d", text):
            text = "0o" + text[1:]
        try:
            value = int(text, 0)
        except ValueError:
            raise Invalid("expected an integer such as 0o22, 022, 0x12 or 18") from None
    return pos_int(value)


def int_range(low, high):
    """An integer between `low` and `high` inclusive."""

    def validate(value):
        try:
            number = pos_int(value)
        except Invalid:
            number = -1
        if not low <= number <= high:
            raise Invalid(f"expected an integer from {low} to {high}")
        return number

    return validate


def boolean(value):
    """True or False; strings "true" and "false" in any case. None stays None (unset)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Invalid("expected true or false")


def string(value):
    """A string, stripped of surrounding whitespace; None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("expected a string")
    return value.strip()


def choice(*allowed, aliases=None, none=None):
    """One of `allowed` (case-insensitive); `aliases` maps other spellings; None gives `none`."""
    aliases = dict(aliases or {})

    def validate(value):
        if value is None:
            return none
        if isinstance(value, str):
            key = value.strip().lower()
            key = aliases.get(key, key)
            if key in allowed:
                return key
        raise Invalid(f"expected one of {', '.join(allowed)}")

    return validate


def anything(value):
    """Any value, kept as given (for settings that are accepted and ignored)."""
    return value


def dictionary(value):
    if not isinstance(value, dict):
        raise Invalid("expected a dict")
    return value


# --- lists ----------------------------------------------------------------------------------


def string_list(value):
    """A list of strings; one string is a list of one, an empty value the empty list."""
    if not value:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise Invalid("expected a string or a list of strings")
    return [v.strip() for v in value]


def comma_list(value):
    """A comma-separated string (or a list) as a list of stripped, non-empty items."""
    if isinstance(value, (list, tuple)):
        return string_list(value)
    text = string(value)
    if not text:
        return []
    return [item.strip() for item in text.split(",") if item.strip()]


def ip_network_list(value):
    """Comma-separated IP addresses or CIDR networks (host bits clear), or "*" for any peer."""
    try:
        items = comma_list(value)
    except Invalid:
        raise Invalid("expected comma-separated IP addresses or networks, or *") from None
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item)
        except ValueError:
            raise Invalid(
                f"{item!r} is not an IP address or network; expected e.g. 10.0.0.1, 10.0.0.0/8, ::1 or *"
            ) from None
    return items


def env_list(value):
    """Environment assignments, each KEY=VALUE."""
    items = string_list(value)
    for item in items:
        key, sep, _ = item.partition("=")
        if not sep or not key:
            raise Invalid(f"{item!r} is not KEY=VALUE; expected KEY=VALUE")
    return items


def is_glob(path):
    return any(ch in path for ch in "*?[")


def files_or_patterns(value):
    """Paths that must exist, or glob patterns kept unexpanded (they may match files made later)."""
    items = string_list(value)
    for item in items:
        if not is_glob(item) and not os.path.exists(item):
            raise Invalid(f"{item!r} does not exist; expected existing files or glob patterns")
    return items


# --- addresses ------------------------------------------------------------------------------

BIND_FORMS = "HOST, HOST:PORT, [IPV6]:PORT, unix:PATH or fd://FD"


def parse_address(netloc, default_port=8000):
    """One bind string as gunicorn reads it: `unix:PATH` -> str, `fd://N` -> int, else (host, port).

    IPv6 hosts come back without brackets; a missing port is `default_port`; an empty string is
    ("0.0.0.0", default_port) while ":PORT" keeps its empty host (every address, to bind());
    hosts are lower-cased. Raises Invalid for anything else.
    """
    if not isinstance(netloc, str):
        raise Invalid(f"expected {BIND_FORMS}")
    if netloc.startswith("unix:"):
        path = netloc[7:] if netloc.startswith("unix://") else netloc[5:]
        if not path:
            raise Invalid(f"unix: needs a path; expected {BIND_FORMS}")
        return path
    if netloc.startswith("fd://"):
        try:
            fd = int(netloc[5:])
        except ValueError:
            fd = -1
        if fd < 0:
            raise Invalid(f"{netloc[5:]!r} is not a file descriptor; expected {BIND_FORMS}")
        return fd
    if netloc.startswith("tcp://"):
        netloc = netloc[6:]
    port = str(default_port)
    if netloc.startswith("["):
        host, bracket, rest = netloc[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise Invalid(f"expected {BIND_FORMS}")
        if rest:
            port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise Invalid(f"{host!r} is not an IPv6 address; expected {BIND_FORMS}") from None
    elif netloc.count(":") > 1:
        raise Invalid(f"IPv6 addresses need brackets, e.g. [::1]:8000; expected {BIND_FORMS}")
    elif ":" in netloc:
        host, _, port = netloc.partition(":")
    else:
        host = netloc
    if not netloc:
        host = "0.0.0.0"  # an empty bind; ":PORT" keeps the empty host, which binds every address
    if not port.isdigit() or int(port) > 65535:
        raise Invalid(f"{port!r} is not a port number 0-65535; expected {BIND_FORMS}")
    return host.lower(), int(port)


def bind_list(value):
    """One or more bind strings, each checked by `parse_address`; kept as strings."""
    items = string_list(value)
    for item in items:
        parse_address(item)
    return items


def statsd_address(value):
    """HOST:PORT (port 8125 by default) or unix:PATH, parsed like gunicorn's statsd_host."""
    text = string(value)
    if text is None:
        return None
    legacy = re.fullmatch(r"unix:(\d+)", text)
    if legacy:
        return ("unix", int(legacy.group(1)))
    try:
        return parse_address(text, default_port=8125)
    except Invalid:
        raise Invalid("expected HOST:PORT or unix://PATH") from None


# --- paths and accounts ---------------------------------------------------------------------


def metrics_address(value):
    """`HOST:PORT` or `unix:PATH` for the metrics endpoint, or None; checked by `parse_address`."""
    if value is None:
        return None
    value = string(value)
    if isinstance(parse_address(value, default_port=9100), int):
        raise Invalid(f"expected HOST:PORT or unix:PATH, not {value!r}")
    return value


def directory(value):
    """An existing directory, made absolute."""
    text = string(value)
    if not text:
        raise Invalid("expected an existing directory")
    path = os.path.abspath(text)
    if not os.path.isdir(path):
        raise Invalid("expected an existing directory")
    return path


def _account(lookup, current, kind, number):
    """A validator of a name (found by `lookup`) or a numeric id; None means `current()`."""
    expected = f"expected a {kind} name or a numeric {number}"

    def validate(value):
        if value is None:
            return current()
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            if value.isdigit():
                return int(value)
            try:
                return lookup(value)
            except KeyError:
                raise Invalid(f"no such {kind}; {expected}") from None
        raise Invalid(expected)

    validate.__doc__ = f"A {kind} name or a numeric {number}; None means the current effective {kind}."
    return validate


user = _account(lambda name: pwd.getpwnam(name).pw_uid, os.geteuid, "user", "uid")
group = _account(lambda name: grp.getgrnam(name).gr_gid, os.getegid, "group", "gid")


# --- classes and hooks ----------------------------------------------------------------------


def class_or_path(value):
    """A class, a function returning one, or a string naming one (a short name or a dotted path)."""
    if inspect.isfunction(value) or inspect.ismethod(value):
        value = value()
    if inspect.isclass(value):
        return value
    text = string(value)
    if not text:
        raise Invalid("expected a class or a dotted path to one")
    return text


def worker_class(value):
    """A worker class, one of corn's worker names, or a dotted path `pkg.module.Class`."""
    from corn.workers import WORKER_CLASSES

    allowed = f"expected {', '.join(WORKER_CLASSES)} or a dotted path to a Worker class"
    try:
        value = class_or_path(value)
    except Invalid:
        raise Invalid(allowed) from None
    if (
        isinstance(value, str)
        and value not in WORKER_CLASSES
        and not re.fullmatch(r"[A-Za-z_][\w]*([.:][A-Za-z_][\w]*)+", value)
    ):
        raise Invalid(allowed)
    return value


POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def arity(func):
    """The number of positional parameters, as gunicorn counts them (no *args, no keywords)."""
    return sum(1 for p in inspect.signature(func).parameters.values() if p.kind in POSITIONAL)


def import_object(path):
    """`pkg.module.name` -> the object."""
    module_name, dot, attr = path.rpartition(".")
    if not dot or not module_name or not attr:
        raise Invalid("expected a callable or an import path module.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise Invalid(f"cannot import {module_name!r}: {exc}; expected module.function") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise Invalid(f"{module_name!r} has no {attr!r}; expected module.function") from None


def hook(*arities):
    """A callable taking exactly one of `arities` positional arguments (or a path to one)."""
    wanted = " or ".join(str(n) for n in arities)
    plural = "" if arities == (1,) else "s"

    def validate(value):
        if isinstance(value, str):
            value = import_object(value.strip())
        if not callable(value):
            raise Invalid(f"expected a callable taking {wanted} argument{plural}")
        try:
            count = arity(value)
        except (TypeError, ValueError):
            raise Invalid(f"expected a callable taking {wanted} argument{plural}") from None
        if count not in arities:
            taken = f"{count} positional argument{'' if count == 1 else 's'}"
            raise Invalid(f"takes {taken}; expected a callable taking {wanted} argument{plural}")
        return value

    return validate


def post_request_hook(value):
    """post_request may take 2, 3 or 4 arguments; it is called as f(worker, req, environ, resp)."""
    func = hook(2, 3, 4)(value)
    count = arity(func)
    if count == 4:
        return func

    def post_request(worker, req, environ, resp):
        return func(worker, req, environ) if count == 3 else func(worker, req)

    post_request.__qualname__ = getattr(func, "__qualname__", post_request.__qualname__)
    return post_request


# --- protocol-specific ----------------------------------------------------------------------


_proxy_protocol = choice(
    "off",
    "v1",
    "v2",
    "auto",
    none="off",
    aliases={"false": "off", "0": "off", "none": "off", "true": "auto", "1": "auto"},
)


def proxy_protocol(value):
    """off, v1, v2 or auto; True (or "true", "1") means auto, False (or "false", "0", "none") off."""
    if isinstance(value, bool):
        return "auto" if value else "off"
    return _proxy_protocol(value)


def http_protocols(value):
    """Comma-separated h1 and h2, no repeats, in order of preference; empty means h1."""
    if value is None:
        return ["h1"]
    if not isinstance(value, str):
        raise Invalid("expected a comma-separated list of h1, h2")
    protocols = [p.strip().lower() for p in value.split(",") if p.strip()]
    if any(p not in ("h1", "h2") for p in protocols) or len(set(protocols)) != len(protocols):
        raise Invalid("expected a comma-separated list of h1, h2 without repeats")
    return protocols or ["h1"]


def http2_cleartext(value):
    """off, prior-knowledge, upgrade or both; True means prior-knowledge."""
    if isinstance(value, bool):
        return "prior-knowledge" if value else "off"
    return choice("off", "prior-knowledge", "upgrade", "both", none="off")(value)
