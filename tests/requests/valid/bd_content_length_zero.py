request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONTENT-LENGTH', '0')],
 'body': b''}
