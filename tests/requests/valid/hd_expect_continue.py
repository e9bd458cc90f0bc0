request = {'method': 'POST',
 'uri': '/up',
 'path': '/up',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('EXPECT', '100-continue'), ('CONTENT-LENGTH', '3')],
 'body': b'abc',
 'expect_continue': True}
