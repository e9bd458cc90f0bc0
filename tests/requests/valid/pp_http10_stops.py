# Nothing after a request that closes the connection is read.
request = [{'method': 'GET',
  'uri': '/one',
  'path': '/one',
  'query': '',
  'fragment': '',
  'version': (1, 0),
  'headers': [('HOST', 'example.com')],
  'body': b'',
  'should_close': True}]
