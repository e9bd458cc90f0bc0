# Tokens are case-insensitive; OWS around the commas and empty elements are allowed.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('CONNECTION', ', foo ,\tClOsE\t,, bar')],
 'body': b'',
 'should_close': True}
