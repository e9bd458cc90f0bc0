request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [("!#$%&'*+-.^`|~09AZAZ", 'v')],
 'body': b''}
