request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('TRANSFER-ENCODING', 'chunked')],
 'body': b'hello',
 'trailers': [('X-CHECKSUM', 'abc'), ('X-OTHER', '1')]}
