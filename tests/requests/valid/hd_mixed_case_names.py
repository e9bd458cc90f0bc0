request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'a'), ('USER-AGENT', 'b')],
 'body': b''}
