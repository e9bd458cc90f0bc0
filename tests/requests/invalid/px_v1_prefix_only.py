# "PROXY" without its space is not a v1 header.
settings = {'proxy_protocol': 'v1'}
error = MissingProxyHeader
