error = LimitRequestLine
