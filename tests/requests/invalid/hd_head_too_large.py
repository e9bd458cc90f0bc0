# Dropped fields still count against the whole head (2 * 22 + 4 bytes).
settings = {'limit_request_fields': 2, 'limit_request_field_size': 20}
error = LimitRequestHeaders
