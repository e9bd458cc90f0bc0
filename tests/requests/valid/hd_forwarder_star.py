settings = {'forwarder_headers': '*'}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X_ANY_THING', '1')],
 'body': b''}
