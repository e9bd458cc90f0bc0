settings = {'strip_header_spaces': True}
error = InvalidHeaderName
