# obs-fold joined with one space when permitted.
settings = {'permit_obsolete_folding': True}
request = {'method': 'GET',
 'uri': '/',
 'path': '/',
 'query': '',
 'fragment': '',
 'version': (1, 1),
 'headers': [('X-LONG', 'a b c'), ('X-NEXT', 'n')],
 'body': b''}
