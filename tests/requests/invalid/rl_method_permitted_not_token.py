# The token rule stays when permitted.
settings = {'permit_unconventional_http_method': True}
error = InvalidRequestMethod
