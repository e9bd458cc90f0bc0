# TE.CL
error = InvalidHeader
