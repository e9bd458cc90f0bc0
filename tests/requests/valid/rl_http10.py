# HTTP/1.0 closes by default.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 0),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'should_close': True}
