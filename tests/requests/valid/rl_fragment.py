request = {'method': 'GET',
 'uri': '/page#section-2',
 'path': '/page',
 'query': '',
 'fragment': 'section-2',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
