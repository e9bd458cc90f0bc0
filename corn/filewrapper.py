"""`wsgi.file_wrapper`: iterate a file-like object in blocks, and close it when the server does.

Plane: data (per request; imports only the data plane and the shared modules).
"""


class FileWrapper:
    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration
