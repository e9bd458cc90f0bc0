request = {'method': 'GET',
 'uri': '/search?q=corn&lang=en',
 'path': '/search',
 'query': 'q=corn&lang=en',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
