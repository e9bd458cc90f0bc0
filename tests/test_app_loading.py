"""App URIs as gunicorn reads them: `module[:expr]`, factories with literal arguments, and
failures that name their real cause (unit level: modules written to a temporary directory)."""

import itertools
import os
import sys
import textwrap

import pytest

from corn.app import WSGIApplication, load_wsgi_app, parse_app_uri
from corn.config import Config
from corn.errors import AppImportError

APPS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")
_names = itertools.count()


@pytest.fixture
def make_module(tmp_path, monkeypatch):
    """Write a module with a fresh name into a directory on sys.path; returns its name."""
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    created = []

    def make(source, prefix="corn_test_app"):
        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield make
    for name in created:
        sys.modules.pop(name, None)


WSGI_SOURCE = """
    def application(environ, start_response):
        return [b"default"]

    def app(environ, start_response):
        return [b"named"]

    calls = []

    def create_app(*args, **kwargs):
        calls.append((args, kwargs))
        def made(environ, start_response):
            return [repr((args, kwargs)).encode()]
        return made

    not_an_app = None
    a_string = "text"

    class Holder:
        app = app

    def factory_that_breaks():
        raise TypeError("broken inside the factory")
"""


def body(app):
    return b"".join(app({}, lambda *a: None))


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("pkg.mod", ("pkg.mod", "application", None, None)),
        ("pkg.mod:app", ("pkg.mod", "app", None, None)),
        ("mod:create_app()", ("mod", "create_app", [], {})),
        ("mod:create_app('x', 2, debug=True)", ("mod", "create_app", ["x", 2], {"debug": True})),
        ("mod:make(opts={'a': [1, 2]}, n=None)", ("mod", "make", [], {"opts": {"a": [1, 2]}, "n": None})),
    ],
)
def test_uri_forms(uri, expected):
    assert parse_app_uri(uri) == expected


@pytest.mark.parametrize(
    "uri, message",
    [
        ("mod:Holder.app", "Failed to parse 'Holder.app' as an attribute name or function call."),
        ("mod:app[0]", "Failed to parse 'app[0]' as an attribute name or function call."),
        ("mod:not valid", "Failed to parse 'not valid' as an attribute name or function call."),
        ("mod:factory.make()", "Function reference must be a simple name: 'factory.make()'"),
        ("mod:make(os.environ)", "Failed to parse arguments as literal values: 'make(os.environ)'"),
        ("mod:create_app(**{'a': 1})", "Failed to parse arguments as literal values"),
        (":app", "Invalid app URI"),
    ],
)
def test_uri_errors(uri, message):
    with pytest.raises(AppImportError) as info:
        parse_app_uri(uri)
    assert message in str(info.value)


# --- loading ---------------------------------------------------------------------------------


def test_default_name_is_application(make_module):
    assert body(load_wsgi_app(make_module(WSGI_SOURCE))) == b"default"


def test_named_callable(make_module):
    assert body(load_wsgi_app(make_module(WSGI_SOURCE) + ":app")) == b"named"


def test_factory_called_with_literal_arguments(make_module):
    name = make_module(WSGI_SOURCE)
    app = load_wsgi_app(f"{name}:create_app('prod', 3, debug=True)")
    assert body(app) == repr((("prod", 3), {"debug": True})).encode()
    assert sys.modules[name].calls == [(("prod", 3), {"debug": True})]


def test_factory_without_arguments(make_module):
    assert body(load_wsgi_app(make_module(WSGI_SOURCE) + ":create_app()")) == repr(((), {})).encode()


def test_factory_called_with_wrong_arguments(make_module):
    name = make_module("def create_app(mode):\n    return lambda e, s: []\n")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:create_app()")
    message = str(info.value)
    assert "create_app" in message
    assert "missing 1 required positional argument: 'mode'" in message


def test_type_error_inside_factory_shows_its_traceback(make_module):
    name = make_module(WSGI_SOURCE)
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:factory_that_breaks()")
    message = str(info.value)
    assert "Traceback" in message
    assert 'raise TypeError("broken inside the factory")' in message
    assert "TypeError: broken inside the factory" in message


def test_missing_attribute(make_module):
    name = make_module(WSGI_SOURCE)
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:nope")
    assert str(info.value) == f"Failed to find attribute 'nope' in '{name}'."


def test_app_that_is_none(make_module):
    name = make_module(WSGI_SOURCE)
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:not_an_app")
    assert "Failed to find application object" in str(info.value)


def test_app_that_is_not_callable(make_module):
    name = make_module(WSGI_SOURCE)
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:a_string")
    assert "Application object must be callable" in str(info.value)


def test_missing_module():
    with pytest.raises(AppImportError) as info:
        load_wsgi_app("corn_no_such_module_anywhere:app")
    message = str(info.value)
    assert "Failed to find application module 'corn_no_such_module_anywhere'" in message
    assert "No module named 'corn_no_such_module_anywhere'" in message


def test_file_name_gets_a_hint(make_module):
    name = make_module(WSGI_SOURCE)
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}.py:app")
    assert f"Did you mean '{name}:app'?" in str(info.value)


def test_file_name_hint_uses_the_default_name():
    with pytest.raises(AppImportError) as info:
        load_wsgi_app("corn_missing_file_module.py")
    assert "Did you mean 'corn_missing_file_module:application'?" in str(info.value)


def test_import_error_inside_the_module_shows_the_real_cause(monkeypatch):
    monkeypatch.setattr(sys, "path", [APPS_DIR] + sys.path)
    sys.modules.pop("broken_import", None)
    with pytest.raises(AppImportError) as info:
        load_wsgi_app("broken_import:app")
    message = str(info.value)
    assert "Failed to import application module 'broken_import'" in message
    assert "import module_that_does_not_exist" in message
    assert "ModuleNotFoundError: No module named 'module_that_does_not_exist'" in message
    assert "broken_import.py" in message
    assert "<frozen importlib" not in message


def test_syntax_error_inside_the_module(make_module):
    name = make_module("def app(environ, start_response:\n    return []\n")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:app")
    message = str(info.value)
    assert f"{name}.py" in message
    assert "SyntaxError" in message


def test_exception_at_import_time(make_module):
    name = make_module("import os\nSECRET = os.environ['CORN_TEST_SURELY_UNSET_VARIABLE']\n")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(name)
    message = str(info.value)
    assert "KeyError: 'CORN_TEST_SURELY_UNSET_VARIABLE'" in message
    assert "SECRET = os.environ" in message


def test_the_cause_is_chained(make_module):
    name = make_module("raise RuntimeError('boom at import')\n")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(name)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_empty_uri():
    with pytest.raises(AppImportError, match="No application module specified"):
        load_wsgi_app(None)


# --- WSGIApplication -------------------------------------------------------------------------


def test_wsgi_loads_once_and_reload_forgets(make_module):
    name = make_module(WSGI_SOURCE)
    cfg = Config()
    cfg.set("wsgi_app", f"{name}:create_app('once')")
    application = WSGIApplication(cfg)
    first = application.wsgi()
    assert application.wsgi() is first
    assert len(sys.modules[name].calls) == 1
    application.reload()
    second = application.wsgi()
    assert second is not first
    assert len(sys.modules[name].calls) == 2


def test_pythonpath_and_chdir_apply_before_loading(tmp_path, monkeypatch):
    monkeypatch.chdir(os.getcwd())
    monkeypatch.setattr(sys, "path", list(sys.path))
    lib = tmp_path / "lib"
    work = tmp_path / "work"
    lib.mkdir()
    work.mkdir()
    name = f"corn_test_pythonpath_{os.getpid()}_{next(_names)}"
    source = "import os\ncwd = os.getcwd()\ndef app(e, s):\n    return [cwd.encode()]\n"
    (lib / f"{name}.py").write_text(source)
    cfg = Config()
    cfg.set("wsgi_app", f"{name}:app")
    cfg.set("pythonpath", f"{lib},{tmp_path / 'other'}")
    cfg.set("chdir", str(work))
    try:
        app = WSGIApplication(cfg).wsgi()
        assert body(app) == str(work).encode()
        assert os.getcwd() == str(work)
        assert sys.path.index(str(lib)) < sys.path.index(str(tmp_path / "other"))
        assert str(work) in sys.path
    finally:
        sys.modules.pop(name, None)


def test_wsgi_raises_app_import_error(monkeypatch):
    monkeypatch.setattr(sys, "path", [APPS_DIR] + sys.path)
    sys.modules.pop("broken_import", None)
    cfg = Config()
    cfg.set("wsgi_app", "broken_import:app")
    application = WSGIApplication(cfg)
    with pytest.raises(AppImportError, match="module_that_does_not_exist"):
        application.wsgi()
    assert application.callable is None
