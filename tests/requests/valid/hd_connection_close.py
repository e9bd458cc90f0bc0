request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONNECTION', 'close')],
 'body': b'',
 'should_close': True}
