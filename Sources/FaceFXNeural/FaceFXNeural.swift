// FaceFXNeural
