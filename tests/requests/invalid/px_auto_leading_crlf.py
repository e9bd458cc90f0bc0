# CRLF starts like a v2 signature; the next byte shows it is not one.
settings = {'proxy_protocol': 'auto'}
error = MissingProxyHeader
