settings = {'forwarder_headers': 'REMOTE_USER'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('REMOTE_USER', 'bob')],
 'body': b''}
