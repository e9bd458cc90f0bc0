error = InvalidSchemeHeaders
