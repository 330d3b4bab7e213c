import FaceFXGPU
print(GPUContext.listDevices())
for sel in [GPUDeviceSelection.auto, .cpu, .index(0)] {
  do { let c = try GPUContext(device: sel); print(sel, c.displayDescription, c.renderer, c.version, c.glslVersion, c.maxTextureSize, c.isSoftware, c.extensions.count) } catch { print(sel, "ERR", error) }
}
