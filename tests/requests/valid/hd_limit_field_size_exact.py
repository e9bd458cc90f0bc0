# 17 bytes + CRLF = 19: the field size counts the CRLF.
settings = {'limit_request_field_size': 19}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-ABC', '0123456789')],
 'body': b''}
