// FaceFXFace
