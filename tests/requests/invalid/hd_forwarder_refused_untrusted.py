settings = {'header_map': 'refuse', 'peer_trusted': False}
error = InvalidHeaderName
