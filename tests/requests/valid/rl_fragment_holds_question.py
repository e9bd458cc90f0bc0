# The fragment starts at the first '#', so a later '?' belongs to it.
request = {'method': 'GET',
 'uri': '/p#a?b',
 'path': '/p',
 'query': '',
 'fragment': 'a?b',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
