request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('TRANSFER-ENCODING', 'identity, chunked')],
 'body': b'x',
 'should_close': False}
