settings = {'header_map': 'dangerous'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X_FOO', '1'), ('X-FOO', '2')],
 'body': b''}
