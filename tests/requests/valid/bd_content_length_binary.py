request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONTENT-LENGTH', '8')],
 'body': b'\x00\r\n\xff\x01\n\r\x7f'}
