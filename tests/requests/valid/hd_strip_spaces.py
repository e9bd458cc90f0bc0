settings = {'strip_header_spaces': True}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'a'), ('X-B', 'b')],
 'body': b''}
