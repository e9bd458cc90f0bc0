error = InvalidChunkSize
