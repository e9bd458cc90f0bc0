settings = {'limit_request_line': 20}
error = LimitRequestLine
