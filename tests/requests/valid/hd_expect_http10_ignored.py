# RFC 9110 10.1.1: ignored on HTTP/1.0.
request = {'method': 'POST',
 'uri': '/up',
 'path': '/up',
 'query': '',
 'fragment': '',
 'version': (1, 0),
 'headers': [('EXPECT', '100-continue'), ('CONTENT-LENGTH', '0')],
 'body': b'',
 'expect_continue': False,
 'should_close': True}
