// FaceFXPipeline
