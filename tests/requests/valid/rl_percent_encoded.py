# Percent-encoding is kept raw.
request = {'method': 'GET',
 'uri': '/caf%C3%A9/%20x%2Fy',
 'path': '/caf%C3%A9/%20x%2Fy',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
