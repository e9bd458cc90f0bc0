# Only 1.0 and 1.1 unless permit_unconventional_http_version.
error = InvalidHTTPVersion
