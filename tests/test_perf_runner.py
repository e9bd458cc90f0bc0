"""perf/e2e.py's pieces that need no server: the wrk scripts of posted bodies, the framework apps'
expected answers, the competitors' commands and the reasons a server gets no row.

perf/e2e.py imports perf/apps.py as `apps`, a name the test suite's own apps directory takes, so the
checks run in a child interpreter with perf/ first on its path and report back as JSON.
"""

import json
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PERF_DIR = os.path.join(REPO_ROOT, "perf")

CHECKS = r'''
import json, os, sys, tempfile
perf_dir, repo_root = sys.argv[1:3]
sys.path[:0] = [perf_dir, repo_root]
import e2e, frameworks
from werkzeug.test import Client

def answer(target, scenario):
    module, _, name = target.partition(":")
    app = getattr(__import__(module, fromlist=[name]), name)
    response = Client(app).open(scenario.path, method=scenario.method, data=scenario.body,
                                content_type=scenario.content_type if scenario.body else None)
    return [response.status_code, response.headers["Content-Type"], response.get_data().decode()]

out = {"lua": {n: e2e.wrk_lua(s) for n, s in e2e.SCENARIOS.items() if s.body},
       "form_size": len(frameworks.FORM_BODY), "form_body": frameworks.FORM_BODY.decode(),
       "answers": {}, "expected": {}, "commands": {}, "unavailable": {}}
for name in ("flask-json", "django-json", "flask-form"):
    scenario = e2e.SCENARIOS[name]
    out["answers"][name] = answer(e2e.app_target(scenario.app), scenario)
    out["expected"][name] = [200, scenario.expected_type, scenario.expected.decode()]
with tempfile.TemporaryDirectory() as workdir:
    for kind in ("granian", "bjoern", "fastwsgi", "corn"):
        out["commands"][kind] = e2e.Server(kind, e2e.FLASK_APP, workdir).command()
    out["commands"]["corn-hello"] = e2e.Server("corn", "hello", workdir).command()
for kind, name in (("nginx", "flask-json"), ("nginx", "hello-ka"), ("corn", "django-json")):
    out["unavailable"][f"{kind} {name}"] = e2e.unavailable(kind, e2e.SCENARIOS[name])
e2e.COMPETITORS["bjoern"] = "no_such_package_here"
out["unavailable"]["bjoern hello-ka"] = e2e.unavailable("bjoern", e2e.SCENARIOS["hello-ka"])
try:
    e2e.lua_body(e2e.Scenario("x", "/", "hello", "POST", b"a\nb", b"", "text/plain"))
except ValueError as exc:
    out["newline_body"] = str(exc)
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def checked():
    pytest.importorskip("flask")
    pytest.importorskip("django")
    out = subprocess.run([sys.executable, "-c", CHECKS, PERF_DIR, REPO_ROOT], capture_output=True, text=True,
                         timeout=120, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_repeated_body_stays_one_short_line(checked):
    assert checked["lua"]["echo-4k"] == ('wrk.method = "POST"\nwrk.body = string.rep("e", 4096)\n'
                                         'wrk.headers["Content-Type"] = "application/octet-stream"\n')


def test_the_form_body_is_posted_verbatim(checked):
    assert checked["form_size"] == 4096
    assert f"wrk.body = [==[{checked['form_body']}]==]\n" in checked["lua"]["flask-form"]
    assert 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"' in checked["lua"]["flask-form"]


def test_a_body_a_long_string_cannot_hold_is_refused(checked):
    assert "printable ASCII" in checked["newline_body"]


@pytest.mark.parametrize("name", ["flask-json", "django-json", "flask-form"])
def test_the_framework_apps_answer_what_the_runner_expects(checked, name):
    assert checked["answers"][name] == checked["expected"][name]


def test_every_server_gets_the_app_as_module_and_callable(checked):
    commands = checked["commands"]
    target = "perf.frameworks.flask_app:app"
    assert commands["granian"][1:8] == ["-m", "granian", "--interface", "wsgi", "--workers", "1",
                                        "--blocking-threads"]
    assert commands["granian"][-1] == target
    for kind in ("bjoern", "fastwsgi"):
        assert commands[kind][1:4] == [os.path.join(PERF_DIR, "run_server.py"), kind, target]
    assert commands["corn"][-1] == target
    assert commands["corn-hello"][-1] == "perf.apps:hello"


def test_the_reasons_a_server_gets_no_row(checked):
    assert checked["unavailable"] == {
        "nginx flask-json": "nginx runs no app",
        "nginx hello-ka": None,
        "corn django-json": None,
        "bjoern hello-ka": "no_such_package_here is not installed (pip install '.[perf]')",
    }
