# authority-form with CONNECT; urlsplit reads 'example.com' as a scheme. CONNECT always closes.
request = {'method': 'CONNECT',
 'uri': 'example.com:443',
 'path': '443',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'should_close': True}
