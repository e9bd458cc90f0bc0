# Limits above 8190 are clamped: 8191 bytes is too long.
settings = {'limit_request_line': 9000}
error = LimitRequestLine
