settings = {'peer_trusted': False}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-A', '1')],
 'body': b''}
