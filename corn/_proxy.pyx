"""The PROXY protocol header (v1 and v2) that opens a connection from a proxy: read once per
connection, before its first request, by the request cycle (corn._handler).

A connection that must open with one and does not is refused at the first byte that cannot start a
header (MissingProxyHeader, answered with nothing); a peer outside proxy_allow_ips that sends one is
refused (ForbiddenProxyRequest). The header's bytes are read in place from the caller's buffer.

Plane: data (per connection; imports only the data plane and the shared modules).
"""

from libc.string cimport memchr, memcmp

from corn._bytes cimport buffer_of, check_range, latin1

import socket

from corn.http_errors import ForbiddenProxyRequest, InvalidProxyHeader, InvalidProxyLine, MissingProxyHeader

cdef object socket_inet_pton = socket.inet_pton
cdef object socket_inet_ntop = socket.inet_ntop
cdef object socket_AF_INET = socket.AF_INET
cdef object socket_AF_INET6 = socket.AF_INET6

cdef enum:
    PROXY_V1_MAX = 107            # the longest v1 line the PROXY protocol allows, CRLF excluded

cdef const char* V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
cdef const char* V1_PREFIX = b"PROXY "


cdef class ProxyReader:
    """Reads the PROXY header of connection after connection, in the mode the worker was given."""

    def __init__(self, int mode):
        if mode != PROXY_V1 and mode != PROXY_V2 and mode != PROXY_AUTO:
            raise ValueError(f"no PROXY header to read in mode {mode}")
        self.mode = mode
        self.info = None

    cpdef Py_ssize_t read(self, object buf, Py_ssize_t start, Py_ssize_t end, bint allowed,
                          object peer) except -2:
        """Read the header that must open the connection at buf[start:end]: the offset just past
        it, or -1 when more bytes are needed. `allowed`: the peer may send one (proxy_allow_ips);
        `peer` names it in ForbiddenProxyRequest."""
        cdef Py_ssize_t size, m, n = end - start
        cdef const unsigned char* p = buffer_of(buf, &size)
        cdef int mode = self.mode
        check_range(start, end, size)
        p += start
        self.info = None
        if mode == PROXY_V2 or mode == PROXY_AUTO:
            m = n if n < 12 else 12
            if memcmp(p, V2_SIGNATURE, m) == 0:
                if n < 12:
                    return -1
                if not allowed:
                    raise ForbiddenProxyRequest(peer)
                m = self._v2(p, n)
                return -1 if m < 0 else start + m
        if mode == PROXY_V1 or mode == PROXY_AUTO:
            m = n if n < 6 else 6
            if memcmp(p, V1_PREFIX, m) == 0:
                if n < 6:
                    return -1
                if not allowed:
                    raise ForbiddenProxyRequest(peer)
                m = self._v1(p, n)
                return -1 if m < 0 else start + m
        raise MissingProxyHeader("v1" if mode == PROXY_V1 else "v2" if mode == PROXY_V2 else "v1 or v2",
                                 <bytes>p[:n if n < 16 else 16])

    cdef Py_ssize_t _v1(self, const unsigned char* p, Py_ssize_t n) except -2:
        """A v1 line: `PROXY TCP4|TCP6 src dst sport dport` and CRLF."""
        cdef Py_ssize_t scan = n if n < PROXY_V1_MAX + 2 else PROXY_V1_MAX + 2
        cdef const unsigned char* q = <const unsigned char*>memchr(p, 10, scan)
        cdef Py_ssize_t k
        if q == NULL:
            if n >= PROXY_V1_MAX + 2:
                raise InvalidProxyLine(latin1(p, PROXY_V1_MAX + 2))
            return -1
        k = q - p
        if p[k - 1] != 13:
            raise InvalidProxyLine(latin1(p, k + 1))
        line = latin1(p, k - 1)
        bits = line.split(" ")
        if len(bits) != 6:
            raise InvalidProxyLine(line)
        proto = bits[1]
        if proto == "TCP4":
            family = socket_AF_INET
        elif proto == "TCP6":
            family = socket_AF_INET6
        else:
            raise InvalidProxyLine(f"protocol '{proto}' not supported")
        try:
            socket_inet_pton(family, bits[2])
            socket_inet_pton(family, bits[3])
        except (OSError, ValueError):
            raise InvalidProxyLine(line) from None
        ports = []
        for text in bits[4:]:
            if not (1 <= len(text) <= 5) or not all("0" <= ch <= "9" for ch in text):
                raise InvalidProxyLine(f"invalid port {line}")
            port = int(text)
            if port > 65535:
                raise InvalidProxyLine(f"invalid port {line}")
            ports.append(port)
        self.info = (proto, bits[2], ports[0], bits[3], ports[1])
        return k + 1

    cdef Py_ssize_t _v2(self, const unsigned char* p, Py_ssize_t n) except -2:
        """A v2 block: the signature, version and command, family, length, addresses."""
        cdef int version, command, family, protocol
        cdef Py_ssize_t length, total
        if n < 13:
            return -1
        version = p[12] >> 4
        if version != 2:
            raise InvalidProxyHeader(f"unsupported version {version}")
        command = p[12] & 15
        if command > 1:
            raise InvalidProxyHeader(f"unsupported command {command}")
        if n < 16:
            return -1
        length = (p[14] << 8) | p[15]
        total = 16 + length
        if n < total:
            return -1
        if command == 0:
            self.info = ("LOCAL", None, None, None, None)
        else:
            family = p[13] >> 4
            protocol = p[13] & 15
            if protocol != 1:
                raise InvalidProxyHeader("only TCP protocol is supported")
            data = <bytes>(p + 16)[:length]
            if family == 1:
                if length < 12:
                    raise InvalidProxyHeader("insufficient address data for IPv4")
                self.info = (
                    "TCP4", socket_inet_ntop(socket_AF_INET, data[0:4]), (p[24] << 8) | p[25],
                    socket_inet_ntop(socket_AF_INET, data[4:8]), (p[26] << 8) | p[27])
            elif family == 2:
                if length < 36:
                    raise InvalidProxyHeader("insufficient address data for IPv6")
                self.info = (
                    "TCP6", socket_inet_ntop(socket_AF_INET6, data[0:16]), (p[48] << 8) | p[49],
                    socket_inet_ntop(socket_AF_INET6, data[16:32]), (p[50] << 8) | p[51])
            elif family == 0:
                self.info = ("UNSPEC", None, None, None, None)
            else:
                raise InvalidProxyHeader(f"unsupported address family {family}")
        return total
