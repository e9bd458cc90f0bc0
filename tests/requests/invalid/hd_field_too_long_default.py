error = LimitRequestHeaders
