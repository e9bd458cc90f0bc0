request = {'method': 'CONNECT',
 'uri': '127.0.0.1:8443',
 'path': '127.0.0.1:8443',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'should_close': True}
