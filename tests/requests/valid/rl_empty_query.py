request = {'method': 'GET',
 'uri': '/p?',
 'path': '/p',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
