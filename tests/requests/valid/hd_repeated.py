# Repeated fields are kept in arrival order.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-BAR', '2'), ('X-OTHER', 'o'), ('X-BAR', '3')],
 'body': b''}
