request = {'method': 'GET',
 'uri': 'http://example.com/a/b?c=d#e',
 'path': '/a/b',
 'query': 'c=d',
 'fragment': 'e',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
