"""The parser's settings as the first bytes of a fuzz input, and back.

Every target input begins with SIZE bytes that choose the RequestParser's limits and leniency
(the settings of the same names in corn.settings) and the per-connection rights; the rest is the
payload. A byte picks a value from a table of interesting ones; a byte past the table gives a
value proportional to it, so the fuzzer can also reach sizes no table lists. All zero bytes are
corn's defaults, and `encode()` turns a settings dict (the corpus's form) into these bytes, so a
seed file is its case's settings followed by its request.
"""

SIZE = 8

LINE = (4094, 0, 1, 2, 8, 16, 32, 64, 8190, 8191, -1)
FIELDS = (100, 0, 1, 2, 3, 4, 10, 32768, 40000)
FIELD_SIZE = (8190, 0, 1, 2, 8, 16, 32, 64, 100000)
HEADER_MAPS = ("drop", "refuse", "dangerous")
PROXY = ("off", "v1", "v2", "auto")
FORWARDERS = ("SCRIPT_NAME,PATH_INFO", "*", "", "X-FORWARDED-FOR,HOST,CONTENT-LENGTH")
SCHEMES = (
    None,
    {},
    {"X-FORWARDED-PROTO": "https"},
    {"X_SCHEME": "on", "FRONT-END-HTTPS": "on"},
)
FLAGS = (
    "permit_unconventional_http_method",
    "permit_unconventional_http_version",
    "casefold_http_method",
    "strip_header_spaces",
    "permit_obsolete_folding",
)
# per-connection rights; a zero bit grants them, like a peer on a unix socket (the corpus default)
DENY = ("peer_trusted", "proxy_allowed")
CONNECTION_KEYS = DENY


def _pick(table, byte, step):
    return table[byte] if byte < len(table) else (byte - len(table)) * step


def _unpick(table, value, step):
    if value in table:
        return table.index(value)
    if value % step == 0 and 0 <= value // step <= 255 - len(table):
        return len(table) + value // step
    raise ValueError(f"{value} cannot be encoded")


def decode(head):
    """The settings dict of the first SIZE bytes (shorter input is padded with zeros)."""
    b = bytes(head[:SIZE]).ljust(SIZE, b"\0")
    settings = {
        "limit_request_line": _pick(LINE, b[0], 37),
        "limit_request_fields": _pick(FIELDS, b[1], 1),
        "limit_request_field_size": _pick(FIELD_SIZE, b[2], 7),
        "header_map": HEADER_MAPS[b[4] % len(HEADER_MAPS)],
        "proxy_protocol": PROXY[b[5] % len(PROXY)],
        "forwarder_headers": FORWARDERS[(b[6] & 0x0F) % len(FORWARDERS)],
        "secure_scheme_headers": SCHEMES[(b[6] >> 4) % len(SCHEMES)],
    }
    for i, name in enumerate(FLAGS):
        settings[name] = bool(b[3] >> i & 1)
    for i, name in enumerate(DENY):
        settings[name] = not b[7] >> i & 1
    return settings


def encode(settings):
    """The SIZE bytes that decode() turns back into `settings` (missing keys: the defaults)."""
    b = bytearray(SIZE)
    b[0] = _unpick(LINE, settings.get("limit_request_line", 4094), 37)
    b[1] = _unpick(FIELDS, settings.get("limit_request_fields", 100), 1)
    b[2] = _unpick(FIELD_SIZE, settings.get("limit_request_field_size", 8190), 7)
    for i, name in enumerate(FLAGS):
        b[3] |= bool(settings.get(name, False)) << i
    b[4] = HEADER_MAPS.index(settings.get("header_map", "drop"))
    b[5] = PROXY.index(_proxy_name(settings.get("proxy_protocol", "off")))
    forwarders = settings.get("forwarder_headers", FORWARDERS[0])
    if not isinstance(forwarders, str):
        forwarders = ",".join(forwarders)
    b[6] = FORWARDERS.index(forwarders) | SCHEMES.index(settings.get("secure_scheme_headers")) << 4
    for i, name in enumerate(DENY):
        b[7] |= (not settings.get(name, True)) << i
    return bytes(b)


def _proxy_name(value):
    if value is True:
        return "auto"
    if value is False or value is None:
        return "off"
    return value


def config_settings(settings):
    """The settings dict without the per-connection rights: corn.settings names and values
    (secure_scheme_headers None: its default)."""
    return {k: v for k, v in settings.items() if k not in CONNECTION_KEYS and v is not None}


_made = {}  # the options of each distinct settings, at most MADE_MAX of them
MADE_MAX = 512


def options(settings):
    """corn.options.request_options of `settings` (made once per distinct settings), or None
    when they are not valid configuration."""
    from corn.errors import ConfigError
    from corn.options import options_for

    wanted = config_settings(settings)
    key = repr(sorted(wanted.items()))
    if key not in _made:
        if len(_made) >= MADE_MAX:
            _made.clear()
        try:
            _made[key] = options_for(**wanted)
        except ConfigError:
            _made[key] = None
    return _made[key]


class FirstRequest:
    """A connection's first bytes read as the request cycle reads them: the PROXY header when
    the mode asks for one (corn._proxy.ProxyReader), then the request head (RequestParser), each
    resumable across calls that bring more bytes. The parser's results and options read through.
    Requests after the first have no PROXY header."""

    def __init__(self, options, settings):
        from corn._parser import RequestParser
        from corn._proxy import ProxyReader

        self.parser = RequestParser(options.parser)
        self.parser.peer_trusted = settings.get("peer_trusted", True)
        self.proxy_protocol = options.proxy_protocol
        self.proxy = ProxyReader(options.proxy_protocol) if options.proxy_protocol else None
        self.proxy_allowed = settings.get("proxy_allowed", True)
        self.proxy_info = None
        self.header_size = -1 if self.proxy is not None else 0  # -1: the PROXY header is not read yet

    def parse_head(self, buf, start, end):
        if self.header_size < 0:
            header_end = self.proxy.read(buf, start, end, self.proxy_allowed, "127.0.0.1")
            if header_end < 0:
                return -1
            self.header_size = header_end - start
            self.proxy_info = self.proxy.info
        head_end = self.parser.parse_head(buf, start + self.header_size, end)
        if head_end >= 0:
            self.header_size = 0
        return head_end

    def reset(self):
        self.parser.reset()

    def __getattr__(self, name):
        try:
            return getattr(self.parser, name)
        except AttributeError:
            return getattr(self.parser.options, name)


def first_request_factory(settings):
    """A function making a fresh FirstRequest for `settings`, or None when they are not valid
    configuration (the targets skip such inputs, as corn refuses to start with them)."""
    request_options = options(settings)
    if request_options is None:
        return None
    return lambda: FirstRequest(request_options, settings)
