# Any upper-case token of 3 to 20 bytes is a method.
request = {'method': '-BLARGH',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
