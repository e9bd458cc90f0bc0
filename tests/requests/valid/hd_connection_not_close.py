# Only the token close itself counts, not a token holding it.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONNECTION', 'closed, close-x, x-close')],
 'body': b'',
 'should_close': False}
