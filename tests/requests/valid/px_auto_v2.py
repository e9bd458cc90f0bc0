settings = {'proxy_protocol': 'auto'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'proxy_info': ('TCP4', '192.168.0.1', 56324, '192.168.0.11', 443)}
