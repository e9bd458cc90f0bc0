settings = {'permit_unconventional_http_version': True}
error = InvalidHTTPVersion
