# Every printable ASCII byte is accepted in a target.
request = {'method': 'GET',
 'uri': '/!$&\'()*+,;=:@-._~[]{}|^`\\"<>',
 'path': '/!$&\'()*+,;=:@-._~[]{}|^`\\"<>',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('HOST', 'example.com')],
 'body': b''}
