# A trusted peer may send the forwarder_headers.
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('SCRIPT_NAME', '/app'), ('PATH_INFO', '/x')],
 'body': b''}
