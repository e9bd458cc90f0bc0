# RFC 9112 6.3: a request whose last coding is not chunked has no length.
error = InvalidHeader
