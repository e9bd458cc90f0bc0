request = {'method': 'GET',
 'uri': 'http://example.com:8080/x',
 'path': '/x',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
