"""Build corn's compiled modules: the request parser, the I/O interface, the request cycle and
the gevent worker's I/O engine (EXTENSIONS, in the order they cimport one another).

Global Cython directives live here; a safety check is turned off only on the function that is shown
not to need it (a local decorator, with the reason). Cython warnings fail the build. Options:

    CORN_CYTHON_ANNOTATE=1   write the annotated HTML next to each .pyx (find Python interaction)
    CORN_DEBUG=1             compile without optimisation and with the debug counters of the request
                             cycle's pools (corn/_state.pxd; tests/test_debug_counters.py checks them)
    CORN_SANITIZE=address,undefined
                             the instrumented build for fuzzing (docs/fuzzing.md): clang with
                             -fsanitize=<list>,fuzzer-no-link, Cython's bounds and wraparound checks
                             on; made in a clean copy of the tree, never over a release build
"""

import glob
import os

from Cython.Build import cythonize
from Cython.Compiler import Options
from setuptools import Extension, setup

# Every compiled module, each a .pyx with its .pxd (and a .pyi for its Python-visible surface).
EXTENSIONS = (
    "corn._chars", "corn._fields", "corn._parser", "corn._chunked", "corn._proxy",
    "corn._stream", "corn._state", "corn._connection", "corn._response", "corn._handler", "corn._gevent_io",
    "corn._gevent_runners",
)

DIRECTIVES = {
    "language_level": 3,
    "embedsignature": True,
    "binding": False,
}

debug = os.environ.get("CORN_DEBUG") == "1"
Options.warning_errors = True
macros = [("CORN_DEBUG", "1" if debug else "0")]
cflags = ["-O0", "-g"] if debug else ["-O2"]

# --- the instrumented build: sanitizers and libFuzzer coverage (docs/fuzzing.md) -----------------
sanitize = os.environ.get("CORN_SANITIZE")
if sanitize:
    if any(os.path.exists(name.replace(".", "/") + ".c") for name in EXTENSIONS):
        raise SystemExit("CORN_SANITIZE: generated corn/*.c exist; build in a clean copy of the tree")
    flags = f" -fsanitize={sanitize},fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=all -g"
    os.environ.setdefault("CC", "clang")
    os.environ.setdefault("LDSHARED", "clang -shared")
    os.environ["CFLAGS"] = os.environ.get("CFLAGS", "") + flags
    os.environ["LDFLAGS"] = os.environ.get("LDFLAGS", "") + flags
    DIRECTIVES.update(boundscheck=True, wraparound=True)


def extension(name):
    path = name.replace(".", "/")
    return Extension(
        name,
        [path + ".pyx"],
        depends=sorted(glob.glob("corn/*.pxd")),
        define_macros=macros,
        extra_compile_args=cflags,
    )


setup(
    ext_modules=cythonize(
        [extension(name) for name in EXTENSIONS],
        compiler_directives=DIRECTIVES,
        annotate=os.environ.get("CORN_CYTHON_ANNOTATE") == "1",
        quiet=True,
    ),
)
