"""corn: a pre-fork WSGI HTTP/1.1 server whose per-request path is compiled with Cython."""

__version__ = "0.1.0"
SERVER = "corn"
SERVER_SOFTWARE = f"corn/{__version__}"
