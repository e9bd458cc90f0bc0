# Whitespace after the size is allowed only before an extension.
error = InvalidChunkSize
