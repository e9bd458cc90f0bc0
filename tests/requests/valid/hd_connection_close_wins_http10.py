# close wins over keep-alive.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 0),
 'headers': [('CONNECTION', 'keep-alive, close')],
 'body': b'',
 'should_close': True}
