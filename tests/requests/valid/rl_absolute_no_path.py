request = {'method': 'GET',
 'uri': 'https://example.com',
 'path': '',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
