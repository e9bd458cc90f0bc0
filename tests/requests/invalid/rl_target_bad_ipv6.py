error = InvalidRequestLine
