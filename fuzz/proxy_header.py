"""Fuzz target: the PROXY protocol v1/v2 reader in front of a request head.

    python fuzz/proxy_header.py [libFuzzer flags] [corpus dirs]

Input: the settings (fuzz/knobs.py; the PROXY mode is v1, v2 or auto, never off), one byte
choosing the split points, then the bytes of the connection. Besides every head property
(fuzz/feed.py, check_head): a connection is accepted only with a PROXY header of a version the
mode names, from a peer allowed to send one, and the addresses and ports corn reports are the
ones the header carries, read here independently of corn.
"""

import ipaddress
import struct
import sys

import atheris

with atheris.instrument_imports(include=["corn"]):
    import feed
    import knobs

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def expected_v1(data):
    """proxy_info as a plain reading of a v1 line; None when corn must refuse it."""
    eol = data.find(b"\r\n")
    parts = data[:eol].split(b" ")
    if parts[1:2] == [b"UNKNOWN"]:
        return "UNKNOWN"
    if len(parts) != 6 or parts[1] not in (b"TCP4", b"TCP6"):
        return None
    src, dst = (ipaddress.ip_address(p.decode("ascii")) for p in parts[2:4])
    assert (src.version, dst.version) == ((4, 4) if parts[1] == b"TCP4" else (6, 6)), parts
    return parts[1].decode(), src, int(parts[4]), dst, int(parts[5])


def expected_v2(data):
    """proxy_info as a plain reading of a v2 header; "LOCAL"/"UNSPEC" for a header without
    addresses."""
    command, family = data[12] & 0x0F, data[13]
    if command == 0:
        return "LOCAL"
    if family == 0x11:
        src, dst, sport, dport = struct.unpack("!4s4sHH", data[16:28])
        return "TCP4", ipaddress.ip_address(src), sport, ipaddress.ip_address(dst), dport
    if family == 0x21:
        src, dst, sport, dport = struct.unpack("!16s16sHH", data[16:52])
        return "TCP6", ipaddress.ip_address(src), sport, ipaddress.ip_address(dst), dport
    return "UNSPEC"


def check_proxy_info(settings, payload, info):
    assert info is not None, "a head accepted without a PROXY header"
    assert settings["proxy_allowed"], "a PROXY header accepted from a peer not allowed to send one"
    mode = settings["proxy_protocol"]
    if payload.startswith(V2_SIGNATURE):
        assert mode in ("v2", "auto"), mode
        expected = expected_v2(payload)
    else:
        assert payload.startswith(b"PROXY ") and mode in ("v1", "auto"), (mode, payload[:16])
        expected = expected_v1(payload)
    protocol, src, sport, dst, dport = info
    if isinstance(expected, str):
        assert src is None and sport is None and dst is None and dport is None, info
        assert expected == protocol or expected == "UNKNOWN" and protocol in ("UNSPEC", "UNKNOWN"), (
            expected, info)
        return
    assert expected is not None, (payload[:120], info)
    assert (protocol, ipaddress.ip_address(src), sport, ipaddress.ip_address(dst), dport) == expected, (
        info, expected)
    assert 0 <= sport <= 65535 and 0 <= dport <= 65535


def test_one_input(data):
    if len(data) <= knobs.SIZE + 1:
        return
    settings = knobs.decode(data)
    if settings["proxy_protocol"] == "off":
        settings["proxy_protocol"] = "auto"
    seed = data[knobs.SIZE]
    payload = data[knobs.SIZE + 1 :]
    factory = knobs.first_request_factory(settings)
    if factory is None:
        return
    outcome = feed.check_head(factory, payload, seed)
    if outcome[0] == "head":
        check_proxy_info(settings, payload, outcome[2][-1])


def main():
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
