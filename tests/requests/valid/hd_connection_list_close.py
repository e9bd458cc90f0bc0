# RFC 9110 7.6.1: close anywhere in the list ends the connection.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONNECTION', 'foo, close')],
 'body': b'',
 'should_close': True}
