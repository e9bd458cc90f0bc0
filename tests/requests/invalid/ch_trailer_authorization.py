# RFC 9110 6.5.1: fields forbidden in trailers.
error = InvalidHeaderName
