settings = {'proxy_protocol': 'v1', 'proxy_allowed': False}
error = ForbiddenProxyRequest
