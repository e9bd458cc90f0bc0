error = ExpectationFailed
