print("gpubench")
