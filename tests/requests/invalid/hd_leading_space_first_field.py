error = InvalidHeaderName
