# A blank continuation still adds its joining space.
settings = {'permit_obsolete_folding': True}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-A', 'a ')],
 'body': b''}
