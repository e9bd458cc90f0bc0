request = {'method': 'GET',
 'uri': '/a:b/c',
 'path': '/a:b/c',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
