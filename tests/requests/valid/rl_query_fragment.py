request = {'method': 'GET',
 'uri': '/p?a=1&b=#frag',
 'path': '/p',
 'query': 'a=1&b=',
 'fragment': 'frag',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
