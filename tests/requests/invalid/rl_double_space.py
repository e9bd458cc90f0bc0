# An empty target.
error = InvalidRequestLine
