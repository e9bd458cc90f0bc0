settings = {'permit_unconventional_http_version': True}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (0, 9),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'should_close': True}
