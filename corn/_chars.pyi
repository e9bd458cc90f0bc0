"""corn._chars: the character tables of the parsers. Nothing here is visible from Python; the
tables and scans are declared in corn/_chars.pxd for the compiled modules."""
