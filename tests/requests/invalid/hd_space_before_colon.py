# Not without strip_header_spaces (the CL.TE desync of gunicorn #2176).
error = InvalidHeaderName
