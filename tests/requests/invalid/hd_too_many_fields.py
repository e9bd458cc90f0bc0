settings = {'limit_request_fields': 2}
error = LimitRequestHeaders
