error = UnsupportedTransferCoding
