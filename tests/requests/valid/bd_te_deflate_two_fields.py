request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('TRANSFER-ENCODING', 'deflate'), ('TRANSFER-ENCODING', 'chunked')],
 'body': b'',
 'should_close': True}
