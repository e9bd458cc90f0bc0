# A size line is bounded by limit_request_field_size.
settings = {'limit_request_field_size': 30}
error = InvalidChunkSize
