request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('TRANSFER-ENCODING', 'compress,\tchunked')],
 'body': b'',
 'should_close': True}
