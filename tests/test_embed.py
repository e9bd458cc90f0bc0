"""Embedding: a deployment script of one's own starts corn, through gunicorn's custom-application
pattern (`corn.app.BaseApplication`) or through `corn.run(app_or_uri, **settings)`. Each script
runs as a real subprocess and serves real Flask or Django apps."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import CornServer, http_request, wait_for

BASE_APPLICATION_SCRIPT = """
import sys

from corn.app import BaseApplication
from flask_app import app


class StandaloneApplication(BaseApplication):
    def __init__(self, app, options=None):
        self.options = options or {}
        self.application = app
        super().__init__()

    def load_config(self):
        with open(sys.argv[1]) as f:
            workers = int(f.read())
        options = dict(self.options, workers=workers)
        for key, value in options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self):
        return self.application


if __name__ == "__main__":
    StandaloneApplication(app, {"bind": "127.0.0.1:0", "keepalive": 5}).run()
"""

RUN_OBJECT_SCRIPT = """
import corn
from flask_app import app

if __name__ == "__main__":
    corn.run(app, bind="127.0.0.1:0", workers=2, timeout=20)
"""

RUN_URI_SCRIPT = """
import corn

if __name__ == "__main__":
    corn.run("django_app", bind="127.0.0.1:0", workers=1, worker_class="sync")
"""

BAD_SETTING_SCRIPT = """
import corn
from flask_app import app

corn.run(app, bind="127.0.0.1:0", wokers=2)
"""

BAD_WORKER_CLASS_SCRIPT = """
import corn
from flask_app import app

corn.run(app, bind="127.0.0.1:0", worker_class="no_such_module.Worker")
"""


class ScriptServer(CornServer):
    """A master started by a deployment script instead of the corn command."""

    def __init__(self, workdir, script, *script_args):
        super().__init__(workdir, None)
        path = os.path.join(self.workdir, "deploy.py")
        with open(path, "w") as f:
            f.write(textwrap.dedent(script))
        self.args = [sys.executable, path, *script_args]


@pytest.fixture
def script_server(tmp_path):
    servers = []

    def start(script, *script_args, workers=1):
        server = ScriptServer(tmp_path, script, *script_args)
        servers.append(server)
        return server.start().wait_ready(workers)

    yield start
    for server in servers:
        server.stop()


def test_base_application_serves_flask_and_reloads_its_config(script_server, tmp_path):
    workers_file = tmp_path / "workers"
    workers_file.write_text("2")
    server = script_server(BASE_APPLICATION_SCRIPT, str(workers_file), workers=2)
    assert http_request(server.port, "GET", "/").body == b"flask says hi"
    resp = http_request(server.port, "POST", "/json", ["Content-Type: application/json"], b'{"n": 1}')
    assert json.loads(resp.body) == {"received": {"n": 1}, "method": "POST"}
    assert server.proc.poll() is None
    workers_file.write_text("3")
    server.signal(signal.SIGHUP)  # load_config() runs again
    wait_for(lambda: "Reload complete: 3 new workers" in server.log(), message="the reload")
    wait_for(lambda: len(server.booted_workers()) == 3, message="three workers")
    assert http_request(server.port, "GET", "/").body == b"flask says hi"
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0


def test_run_with_a_flask_app_object(script_server):
    server = script_server(RUN_OBJECT_SCRIPT, workers=2)
    assert http_request(server.port, "GET", "/").body == b"flask says hi"
    assert "Using worker: gevent" in server.log()
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0


def test_run_with_a_django_app_uri(script_server):
    server = script_server(RUN_URI_SCRIPT)
    resp = http_request(server.port, "GET", "/")
    assert resp.status == 200
    assert resp.body == f"django says hi from {server.booted_workers()[0]}".encode()
    assert "Using worker: sync" in server.log()
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0


def test_run_with_an_unknown_setting_fails_in_one_line(tmp_path):
    server = ScriptServer(tmp_path, BAD_SETTING_SCRIPT)
    done = subprocess.run(server.args, env=server.env, cwd=server.workdir, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "unknown setting 'wokers'; did you mean 'workers'?" in done.stderr


def test_importing_corn_stays_cheap(tmp_path):
    code = ("import sys, corn; "
            "heavy = [m for m in ('corn.arbiter', 'corn.embed', 'gevent') if m in sys.modules]; "
            "print(heavy, callable(corn.run), 'corn.embed' in sys.modules)")
    server = ScriptServer(tmp_path, "")
    done = subprocess.run([sys.executable, "-c", code], env=server.env, capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[] True True", done.stderr


def test_run_with_a_worker_class_that_does_not_import_says_so_once(tmp_path):
    server = ScriptServer(tmp_path, BAD_WORKER_CLASS_SCRIPT)
    done = subprocess.run(server.args, env=server.env, cwd=server.workdir, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert output.count("No module named 'no_such_module'") == 1, output
    assert "Reason: Invalid value for worker_class: 'no_such_module.Worker'" in output
