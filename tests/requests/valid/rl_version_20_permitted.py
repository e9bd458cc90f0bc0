settings = {'permit_unconventional_http_version': True}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (2, 0),
 'headers': [('HOST', 'example.com')],
 'body': b'',
 'should_close': False}
