# The limit is enforced before the line ends.
error = LimitRequestLine
