# Only one empty line may come before the request line.
error = InvalidRequestLine
