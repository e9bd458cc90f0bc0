request = {'method': 'POST',
 'uri': '/up',
 'path': '/up',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('EXPECT', '100-Continue'), ('CONTENT-LENGTH', '0')],
 'body': b'',
 'expect_continue': True}
