# RFC 9110 2.5: a later HTTP/1 minor version is served as HTTP/1.1.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'should_close': False}
