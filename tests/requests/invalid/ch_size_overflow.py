# corn refuses sizes of more than 15 hex digits (no 64-bit overflow).
error = InvalidChunkSize
