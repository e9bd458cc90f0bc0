# TLVs after the addresses are skipped by length.
settings = {'proxy_protocol': 'v2'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'proxy_info': ('TCP4', '10.0.0.1', 80, '10.0.0.2', 8080)}
