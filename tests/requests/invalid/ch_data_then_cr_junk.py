error = ChunkMissingTerminator
