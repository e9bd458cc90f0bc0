# Only SP and HTAB are stripped from a coding (gunicorn #3364).
error = UnsupportedTransferCoding
