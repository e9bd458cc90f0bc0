settings = {'header_map': 'refuse'}
error = InvalidHeaderName
