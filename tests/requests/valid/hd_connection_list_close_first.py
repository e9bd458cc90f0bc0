request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONNECTION', 'close, Upgrade')],
 'body': b'',
 'should_close': True}
