"""What a config file and the class settings can import: the working directory, `--chdir` and
`--pythonpath` are on sys.path before the config file runs and before the logger and worker
classes are imported, in the master and under `--check-config`, as under gunicorn.

corn runs here as its console script runs it: from a script in a directory of its own, so
sys.path[0] is that directory and not the working directory (`python -m corn` would add the
working directory itself and hide the difference). Every path on PYTHONPATH is absolute.
"""

import os
import subprocess
import sys

import pytest
from conftest import APPS_DIR, CORN_PATH, DEADLINE, CornServer, http_request, wait_for

SCRIPT = "import sys\nfrom corn.cli import main\nsys.exit(main())\n"
IMPORT_CHECK = """import importlib, sys
try:
    importlib.import_module(sys.argv[1])
except ImportError:
    sys.exit(3)
"""

TAGGED_LOGGER = '''
from corn.glogging import Logger


class TaggedLogger(Logger):
    def access(self, environ, status, headers, sent, request_time):
        self.access_log.info("tagged %s %s", environ["PATH_INFO"], status.split()[0])
'''


def script_env():
    env = {"PYTHONPATH": os.pathsep.join([APPS_DIR, CORN_PATH])}
    extra = os.environ.get("PYTHONPATH")
    if extra:
        env["PYTHONPATH"] += os.pathsep + os.pathsep.join(os.path.abspath(p) for p in extra.split(os.pathsep))
    return env


def script(tmp_path, name="corn_script.py", text=SCRIPT):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(text)
    return str(path)


def run_script(tmp_path, workdir, args):
    from conftest import server_env

    return subprocess.run(
        [sys.executable, script(tmp_path), *args], cwd=str(workdir), env=server_env(script_env()),
        capture_output=True, text=True, timeout=DEADLINE, stdin=subprocess.DEVNULL,
    )


def importable(tmp_path, workdir, module):
    """Whether `module` imports from a script run in `workdir`, with nothing done about sys.path."""
    from conftest import server_env

    result = subprocess.run(
        [sys.executable, script(tmp_path, "import_check.py", IMPORT_CHECK), module], cwd=str(workdir),
        env=server_env(script_env()), timeout=DEADLINE, stdin=subprocess.DEVNULL,
    )
    return result.returncode == 0


def start_script(tmp_path, workdir, args, app="basic:app", workers=1):
    server = CornServer(workdir, app, args, env=script_env())
    server.args = [sys.executable, script(tmp_path), "-b", "127.0.0.1:0", *args, app]
    server.start()
    try:
        server.wait_ready(workers)
    except BaseException:
        server.stop()
        raise
    return server


def test_a_config_file_imports_a_module_beside_it(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "confhelper.py").write_text(
        "WORKERS = 2\n\ndef post_fork(server, worker):\n    server.log.info('helper hook ran')\n"
    )
    (work / "gunicorn.conf.py").write_text(
        "import confhelper\nworkers = confhelper.WORKERS\npost_fork = confhelper.post_fork\n"
    )
    assert not importable(tmp_path, work, "confhelper")  # the test does reproduce a console script

    checked = run_script(tmp_path, work, ["--check-config", "basic:app"])
    assert checked.returncode == 0, checked.stderr
    server = start_script(tmp_path, work, [], workers=2)
    try:
        assert http_request(server.port).status == 200
        assert server.log().count("helper hook ran") >= 2
    finally:
        server.stop()


def test_the_command_line_chdir_reaches_the_config_file(tmp_path):
    work = tmp_path / "work"
    (work / "site").mkdir(parents=True)
    (work / "site" / "sitehelper.py").write_text("WORKERS = 2\n")
    (work / "corn.conf.py").write_text("import sitehelper\nworkers = sitehelper.WORKERS\n")
    assert not importable(tmp_path, work, "sitehelper")

    checked = run_script(tmp_path, work, ["--chdir", "site", "--check-config", "basic:app"])
    assert checked.returncode == 0, checked.stderr
    server = start_script(tmp_path, work, ["--chdir", "site"], workers=2)
    try:
        assert http_request(server.port).status == 200
    finally:
        server.stop()


@pytest.mark.parametrize("where", ["command line", "config file"])
def test_a_logger_class_on_pythonpath(tmp_path, where):
    work = tmp_path / "work"
    (work / "lib").mkdir(parents=True)
    (work / "lib" / "mylog.py").write_text(TAGGED_LOGGER)
    assert not importable(tmp_path, work, "mylog")
    if where == "command line":
        args = ["--logger-class", "mylog.TaggedLogger", "--pythonpath", "lib", "--access-logfile", "-"]
    else:
        (work / "gunicorn.conf.py").write_text(
            "pythonpath = 'lib'\nlogger_class = 'mylog.TaggedLogger'\naccesslog = '-'\n"
        )
        args = []
    checked = run_script(tmp_path, work, [*args, "--check-config", "basic:app"])
    assert checked.returncode == 0, checked.stderr
    server = start_script(tmp_path, work, args)
    try:
        assert http_request(server.port, path="/tagged").status == 200
        wait_for(lambda: "tagged /tagged 200" in server.log(), message="the access line of the logger class")
    finally:
        server.stop()


def test_a_class_that_does_not_import_is_the_same_one_line_checked_or_started(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "gunicorn.conf.py").write_text("logger_class = 'nowhere.Logger'\n")
    checked = run_script(tmp_path, work, ["--check-config", "basic:app"])
    started = run_script(tmp_path, work, ["-b", "127.0.0.1:0", "basic:app"])
    expected = "corn: error: Invalid value for logger_class: 'nowhere.Logger' (No module named 'nowhere')"
    assert checked.returncode == started.returncode == 2
    assert checked.stderr.splitlines() == started.stderr.splitlines() == [expected]
    assert "Starting corn" not in started.stdout + started.stderr
