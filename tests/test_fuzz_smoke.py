"""Each fuzz target (fuzz/) runs a fixed number of inputs from the seed corpus and exits clean.

The long runs and their results are in docs/fuzzing.md; here each target gets the corpus's seeds
and RUNS mutations of them, with libFuzzer's own deadlines as the bound, so a change that breaks a
target or one of its properties on the seeds fails the suite.
"""

import os
import subprocess
import sys

import pytest
from conftest import CORN_PATH

pytest.importorskip("atheris", reason="atheris is in the test extra; it has no wheel for this Python")

FUZZ_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz")
TARGETS = ("parser_head", "chunked_body", "proxy_header", "request_cycle")
RUNS = 1500
DEADLINE = 300  # seconds for one target, far above what it takes on a loaded two-core machine


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds")
    subprocess.run([sys.executable, os.path.join(FUZZ_DIR, "make_seeds.py"), str(out)], check=True,
                   env=dict(os.environ, PYTHONPATH=CORN_PATH), capture_output=True, timeout=DEADLINE)
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_runs_clean(target, seeds, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    command = [
        sys.executable, os.path.join(FUZZ_DIR, target + ".py"), f"-runs={RUNS}", "-seed=1", "-timeout=60",
        f"-max_total_time={DEADLINE // 2}", f"-artifact_prefix={tmp_path}/", str(corpus), str(seeds / target),
    ]
    done = subprocess.run(command, env=dict(os.environ, PYTHONPATH=CORN_PATH), capture_output=True,
                          timeout=DEADLINE)
    output = done.stderr.decode(errors="replace")
    assert done.returncode == 0, output[-4000:]
    assert "Done " in output, output[-4000:]
