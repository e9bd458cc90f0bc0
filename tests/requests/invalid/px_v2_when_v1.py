# A v2 header where only v1 is on reads as two empty lines.
settings = {'proxy_protocol': 'v1'}
error = InvalidRequestLine
