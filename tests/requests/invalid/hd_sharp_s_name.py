# Would upper-case to 'SS' if case were folded before checking.
error = InvalidHeaderName
