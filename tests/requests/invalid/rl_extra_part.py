error = InvalidHTTPVersion
