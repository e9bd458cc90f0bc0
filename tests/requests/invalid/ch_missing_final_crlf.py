# A body cut after the last chunk.
error = ChunkMissingTerminator
