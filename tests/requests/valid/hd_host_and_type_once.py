request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'a'), ('CONTENT-TYPE', 'text/plain'), ('X-HOST', 'b')],
 'body': b''}
