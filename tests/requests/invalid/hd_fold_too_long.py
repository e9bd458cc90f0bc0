settings = {'permit_obsolete_folding': True, 'limit_request_field_size': 20}
error = LimitRequestHeaders
