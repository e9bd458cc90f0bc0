# A peer outside proxy_allow_ips is not served directly either.
settings = {'proxy_protocol': 'v2', 'proxy_allowed': False}
error = MissingProxyHeader
