"""The request cycle's options: the settings a worker's compiled code reads, built from a Config once
per worker.

`request_options(cfg, log)` is the one place that turns settings into the typed options of
corn._handler (HandlerOptions) and corn._parser (ParserOptions): gunicorn's limits (0 meaning
"the most", the request line clamped to 8190), setting values into the enums of the compiled
modules, hooks that would do nothing dropped. The compiled modules repeat no default, alias or
setting name.

Plane: control.
"""

from corn._handler import HandlerOptions
from corn._parser import HeaderMap, Limits, ParserOptions
from corn._proxy import ProxyMode
from corn.config import Config

HEADER_MAPS = {"drop": HeaderMap.HEADER_MAP_DROP, "refuse": HeaderMap.HEADER_MAP_REFUSE,
               "dangerous": HeaderMap.HEADER_MAP_DANGEROUS}
PROXY_MODES = {"off": ProxyMode.PROXY_OFF, "v1": ProxyMode.PROXY_V1, "v2": ProxyMode.PROXY_V2,
               "auto": ProxyMode.PROXY_AUTO}
MAX_REQUEST_LINE = Limits.MAX_REQUEST_LINE
MAX_HEADERS = Limits.MAX_HEADERS
FIELD_SIZE_OF_ZERO = 8190  # what limit_request_field_size = 0 means (gunicorn's)
DEBUG = 10  # the logging level at which the default pre_request hook writes a line


def request_options(cfg, log=None):
    """The HandlerOptions (and within them the ParserOptions) of `cfg`; `log` decides whether the
    default pre_request hook, which only logs at debug level, is worth calling."""
    line = cfg.limit_request_line
    fields = cfg.limit_request_fields
    forwarders = cfg.forwarder_headers
    parser = ParserOptions(
        limit_request_line=MAX_REQUEST_LINE if line >= MAX_REQUEST_LINE else line,
        limit_request_fields=MAX_HEADERS if fields <= 0 or fields > MAX_HEADERS else fields,
        limit_request_field_size=cfg.limit_request_field_size or FIELD_SIZE_OF_ZERO,
        permit_unconventional_http_method=cfg.permit_unconventional_http_method,
        permit_unconventional_http_version=cfg.permit_unconventional_http_version,
        casefold_http_method=cfg.casefold_http_method,
        strip_header_spaces=cfg.strip_header_spaces,
        permit_obsolete_folding=cfg.permit_obsolete_folding,
        header_map=HEADER_MAPS[cfg.header_map],
        forwarder_headers=None if "*" in forwarders else frozenset(forwarders),
        secure_scheme_headers=dict(cfg.secure_scheme_headers),
    )
    pre_request = cfg.pre_request
    if cfg.is_default("pre_request") and getattr(log, "loglevel", DEBUG + 10) > DEBUG:
        pre_request = None
    return HandlerOptions(
        parser,
        keepalive=float(cfg.keepalive),
        header_timeout=float(cfg.header_timeout),
        timeout=float(cfg.timeout) if cfg.timeout > 0 else 0.0,
        use_sendfile=cfg.sendfile is not False and not cfg.is_ssl,
        url_scheme="https" if cfg.is_ssl else "http",
        multiprocess=cfg.workers > 1,
        proxy_protocol=PROXY_MODES[cfg.proxy_protocol],
        pre_request=pre_request,
        post_request=None if cfg.is_default("post_request") else cfg.post_request,
    )


def options_for(**settings):
    """request_options of a Config with these settings (validated as in a config file) and
    nothing from the environment: for tests and benchmarks of the compiled modules."""
    cfg = Config(environ={})
    for name, value in settings.items():
        cfg.set(name, value)
    return request_options(cfg)
