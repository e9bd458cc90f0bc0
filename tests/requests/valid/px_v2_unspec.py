settings = {'proxy_protocol': 'v2'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'proxy_info': ('UNSPEC', None, None, None, None)}
