request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 0),
 'headers': [('CONNECTION', 'foo'), ('CONNECTION', 'Keep-Alive')],
 'body': b'',
 'should_close': False}
