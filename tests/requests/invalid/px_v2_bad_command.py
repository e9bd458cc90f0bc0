settings = {'proxy_protocol': 'v2'}
error = InvalidProxyHeader
