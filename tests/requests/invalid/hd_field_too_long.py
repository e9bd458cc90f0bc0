settings = {'limit_request_field_size': 19}
error = LimitRequestHeaders
