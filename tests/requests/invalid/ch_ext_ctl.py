error = InvalidChunkExtension
