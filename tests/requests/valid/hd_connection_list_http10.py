# Only an exact close / keep-alive counts; a list falls back to the version.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 0),
 'headers': [('CONNECTION', 'keep-alive, Upgrade')],
 'body': b'',
 'should_close': True}
