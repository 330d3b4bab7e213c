// FaceFXOverlay
