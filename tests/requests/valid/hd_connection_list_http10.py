# keep-alive anywhere in the list keeps an HTTP/1.0 connection.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 0),
 'headers': [('CONNECTION', 'keep-alive, Upgrade')],
 'body': b'',
 'should_close': False}
