error = InvalidRequestMethod
