# Chunk data may hold CRLF and '0'.
request = {'method': 'POST',
 'uri': '/submit',
 'path': '/submit',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('TRANSFER-ENCODING', 'chunked')],
 'body': b'\r\n\r\n0\r\n'}
