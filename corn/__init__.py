"""corn: a pre-fork WSGI HTTP/1.1 server whose per-request path is compiled with Cython.

`corn.run(app, **settings)` serves an app from a program of one's own (see corn.embed); it is
imported on first use, so `import corn` stays cheap.

Plane: shared (imports no other plane, so both may import it).
"""

__version__ = "0.1.0"
SERVER = "corn"
SERVER_SOFTWARE = f"corn/{__version__}"


def __getattr__(name):
    if name == "run":
        from corn.embed import run

        return run
    raise AttributeError(f"module 'corn' has no attribute {name!r}")
