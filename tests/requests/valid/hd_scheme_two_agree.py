request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-FORWARDED-PROTO', 'https'), ('X-FORWARDED-SSL', 'on')],
 'body': b'',
 'url_scheme': 'https'}
