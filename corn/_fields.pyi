"""corn._fields: field names known in advance and the checks of one field line. Nothing here is
visible from Python; the functions are declared in corn/_fields.pxd for the compiled modules."""
