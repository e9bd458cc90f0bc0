# obs-text is decoded as latin-1.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-NAME', 'café ÿ\x80')],
 'body': b''}
