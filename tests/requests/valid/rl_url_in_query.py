request = {'method': 'GET',
 'uri': '/go?to=http://example.org/x',
 'path': '/go',
 'query': 'to=http://example.org/x',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
