# With the PROXY protocol on, a plain request still parses.
settings = {'proxy_protocol': 'auto'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'proxy_info': None}
