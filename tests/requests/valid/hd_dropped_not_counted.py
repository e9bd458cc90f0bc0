# Dropped fields do not count against limit_request_fields.
settings = {'limit_request_fields': 2}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('A', '1'), ('C', '3')],
 'body': b''}
