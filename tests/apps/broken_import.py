"""An app module that cannot be imported: the master must stop with this error."""

import module_that_does_not_exist  # noqa: F401

app = None
