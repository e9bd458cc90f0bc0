# A target starting with // is a path, not an authority.
request = {'method': 'GET',
 'uri': '//keep//slashes?x=1',
 'path': '//keep//slashes',
 'query': 'x=1',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
