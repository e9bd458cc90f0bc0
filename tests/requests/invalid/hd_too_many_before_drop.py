# The count is checked before the field is dropped.
settings = {'limit_request_fields': 2}
error = LimitRequestHeaders
