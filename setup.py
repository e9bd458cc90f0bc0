"""Build corn's compiled modules: the request parser, the I/O interface, the request cycle and
the gevent worker's I/O engine (EXTENSIONS, in the order they cimport one another).

Global Cython directives live here; a safety check is turned off only on the function that is shown
not to need it (a local decorator, with the reason). Cython warnings fail the build. Options:

    CORN_CYTHON_ANNOTATE=1   write the annotated HTML next to each .pyx (find Python interaction)
    CORN_DEBUG=1             compile without optimisation and with the debug counters of the request
                             cycle's pools (corn/_state.pxd; tests/test_debug_counters.py checks them)
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
