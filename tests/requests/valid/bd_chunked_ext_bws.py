# BWS around ';' and '=' (RFC 9112 7.1.1).
request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('TRANSFER-ENCODING', 'chunked')],
 'body': b'hello'}
