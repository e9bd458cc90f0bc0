request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-URL', 'http://a:b@c/d:e')],
 'body': b''}
