settings = {'proxy_protocol': 'auto', 'proxy_allowed': False}
error = ForbiddenProxyRequest
