settings = {'proxy_protocol': 'v2'}
error = MissingProxyHeader
