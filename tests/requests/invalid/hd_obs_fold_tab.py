error = ObsoleteFolding
