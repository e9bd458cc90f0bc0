settings = {'proxy_protocol': 'v1'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'proxy_info': ('TCP6', '2001:db8::1', 1024, '::1', 80)}
