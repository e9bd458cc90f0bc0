# A request line of exactly limit_request_line bytes.
settings = {'limit_request_line': 20}
request = {'method': 'GET',
 'uri': '/012345',
 'path': '/012345',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
