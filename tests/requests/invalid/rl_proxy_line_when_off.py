# A PROXY line to a server without the PROXY protocol is a bad request line.
error = InvalidRequestLine
