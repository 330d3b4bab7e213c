print("facefx")
