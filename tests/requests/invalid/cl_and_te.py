# CL.TE
error = InvalidHeader
