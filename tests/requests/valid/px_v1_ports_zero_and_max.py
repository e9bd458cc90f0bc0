settings = {'proxy_protocol': 'v1'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'proxy_info': ('TCP4', '0.0.0.0', 0, '255.255.255.255', 65535)}
