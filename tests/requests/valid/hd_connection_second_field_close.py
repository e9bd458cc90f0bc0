# Several Connection fields combine into one list.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONNECTION', 'upgrade'), ('CONNECTION', 'close')],
 'body': b'',
 'should_close': True}
