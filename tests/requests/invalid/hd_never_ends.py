error = NoMoreData
