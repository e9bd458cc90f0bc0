# The coding is judged before the length.
error = UnsupportedTransferCoding
