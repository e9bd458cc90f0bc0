# corn refuses a length that does not fit in 18 digits.
error = InvalidHeader
