settings = {'proxy_protocol': 'v1'}
error = MissingProxyHeader
