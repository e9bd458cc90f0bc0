"""Control-plane errors: configuration, application loading, and halting the master."""


class ConfigError(Exception):
    """A setting or a config file is wrong; the message is one line that says what is allowed."""


class AppImportError(Exception):
    """The WSGI application could not be imported or found."""


class HaltServer(Exception):
    def __init__(self, reason, exit_status=1):
        super().__init__(reason)
        self.reason = reason
        self.exit_status = exit_status
