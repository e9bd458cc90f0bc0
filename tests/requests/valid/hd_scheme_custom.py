# Only the configured scheme headers count.
settings = {'secure_scheme_headers': {'X-SCHEME': 'secure'}}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-SCHEME', 'secure'), ('X-FORWARDED-PROTO', 'http')],
 'body': b'',
 'url_scheme': 'https'}
