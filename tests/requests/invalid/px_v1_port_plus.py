# corn wants decimal digits in a port.
settings = {'proxy_protocol': 'v1'}
error = InvalidProxyLine
