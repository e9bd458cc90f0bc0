"""`--reload`: a worker restarts when a file it runs from, or a `reload_extra_files` entry
(globs expanded again on every check), changes; the new worker serves the new code. A syntax
error while reloading serves the error until the file is fixed, instead of stopping the server."""

import importlib.util
import os

import pytest
from conftest import http_request, wait_for

APP = """
def app(environ, start_response):
    body = {body!r}
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""

TEMPLATE_APP = """
import glob
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = "".join(open(p).read() for p in sorted(glob.glob(os.path.join(HERE, "templates", "*.txt"))))


def app(environ, start_response):
    body = ("templates: " + TEXT).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""

NO_BYTECODE = {"PYTHONDONTWRITEBYTECODE": "1"}


def write_changed(path, text):
    """Rewrite `path` and move its mtime clearly forward, whatever the file system's resolution."""
    before = os.stat(path).st_mtime if path.exists() else 0
    path.write_text(text)
    os.utime(path, (before + 2, before + 2))


def body(server):
    return http_request(server.port, "GET", "/").body


def test_changed_app_module_is_served_after_reload(corn_server, tmp_path, worker_class):
    module = tmp_path / "reload_app.py"
    module.write_text(APP.format(body=b"version one"))
    server = corn_server("reload_app:app", "--reload", "-k", worker_class, "--pythonpath", str(tmp_path),
                         env=NO_BYTECODE)
    wait_for(lambda: body(server) == b"version one", message="the first version")
    (first,) = server.booted_workers()
    write_changed(module, APP.format(body=b"version two, longer"))
    wait_for(lambda: body(server) == b"version two, longer", message="the new code")
    assert f"Worker reloading: {module} modified" in server.log()
    assert first not in server.booted_workers()
    assert server.proc.poll() is None


def test_extra_files_globs_are_expanded_again(corn_server, tmp_path):
    (tmp_path / "template_app.py").write_text(TEMPLATE_APP)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "a.txt").write_text("A")
    server = corn_server("template_app:app", "--reload", "--reload-extra-file", str(templates / "*.txt"),
                         "--pythonpath", str(tmp_path), env=NO_BYTECODE)
    wait_for(lambda: body(server) == b"templates: A", message="the first template")
    created = templates / "b.txt"  # matches the pattern only now
    created.write_text("B")
    wait_for(lambda: body(server) == b"templates: AB", message="the new template")
    assert f"Worker reloading: {created} modified" in server.log()
    write_changed(templates / "a.txt", "a")
    wait_for(lambda: body(server) == b"templates: aB", message="the changed template")


def test_syntax_error_is_served_until_fixed(corn_server, tmp_path):
    module = tmp_path / "typo_app.py"
    module.write_text("def app(environ, start_response)\n    pass\n")
    server = corn_server("typo_app:app", "--reload", "--pythonpath", str(tmp_path), env=NO_BYTECODE)
    broken = http_request(server.port, "GET", "/")
    assert broken.status == 500
    assert b"SyntaxError" in broken.body and b"typo_app.py" in broken.body
    write_changed(module, APP.format(body=b"fixed"))
    wait_for(lambda: body(server) == b"fixed", message="the fixed code")
    assert server.proc.poll() is None


def test_inotify_engine_falls_back_to_polling(corn_server, tmp_path):
    module = tmp_path / "engine_app.py"
    module.write_text(APP.format(body=b"one"))
    server = corn_server("engine_app:app", "--reload", "--reload-engine", "inotify",
                         "--pythonpath", str(tmp_path), env=NO_BYTECODE)
    wait_for(lambda: body(server) == b"one", message="the first version")
    write_changed(module, APP.format(body=b"two!"))
    wait_for(lambda: body(server) == b"two!", message="the new code")
    if importlib.util.find_spec("inotify") is None:
        assert "reload_engine inotify is not available (ModuleNotFoundError" in server.log()
        assert "polling instead" in server.log()
