error = InvalidHeader
