# gzip before chunked is accepted, not decoded, and closes the connection.
request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('TRANSFER-ENCODING', 'gzip, chunked')],
 'body': b'abc',
 'should_close': True}
