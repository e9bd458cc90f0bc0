# A v2 header where only v1 is on is no PROXY header.
settings = {'proxy_protocol': 'v1'}
error = MissingProxyHeader
