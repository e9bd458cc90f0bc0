# header_map drop: a name with '_' vanishes.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'a'), ('X-FOO', '2')],
 'body': b''}
