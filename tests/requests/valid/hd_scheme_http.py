request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-FORWARDED-PROTO', 'http')],
 'body': b'',
 'url_scheme': 'http'}
