# With the PROXY protocol on, a connection must open with a PROXY header.
settings = {'proxy_protocol': 'auto'}
error = MissingProxyHeader
