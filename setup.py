"""Build corn's compiled modules: the request parser, the I/O interface, the request cycle and
the gevent worker's I/O engine.

Cython directives live here and nowhere else. Cython warnings fail the build. Options:

    CORN_CYTHON_ANNOTATE=1   write the annotated HTML next to each .pyx (find Python interaction)
    CORN_DEBUG=1             compile with -DCORN_DEBUG=1 and without optimisation
"""

import os

from Cython.Build import cythonize
from Cython.Compiler import Options
from setuptools import Extension, setup

DIRECTIVES = {
    "language_level": 3,
    "embedsignature": True,
    "binding": False,
    "initializedcheck": False,
    "cdivision": True,
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
        depends=[path + ".pxd", "corn/_parser.pxd", "corn/_proxy.pxd", "corn/_stream.pxd", "corn/_syscalls.pxd",
                 "corn/_bytes.pxd"],
        define_macros=macros,
        extra_compile_args=cflags,
    )


setup(
    ext_modules=cythonize(
        [extension(name) for name in ("corn._parser", "corn._proxy", "corn._stream", "corn._handler", "corn._gevent_io")],
        compiler_directives=DIRECTIVES,
        annotate=os.environ.get("CORN_CYTHON_ANNOTATE") == "1",
        quiet=True,
    ),
)
