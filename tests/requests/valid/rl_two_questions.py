request = {'method': 'GET',
 'uri': '/p?a?b',
 'path': '/p',
 'query': 'a?b',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
