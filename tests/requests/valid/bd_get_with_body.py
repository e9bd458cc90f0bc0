request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONTENT-LENGTH', '2')],
 'body': b'ok'}
