# A latin-1 digit-like character is no digit.
error = InvalidHeader
