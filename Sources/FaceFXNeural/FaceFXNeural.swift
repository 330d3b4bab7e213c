// FaceFXNeural: networks for facefx.
//
// Loading (pure Swift + Foundation, no GL):
//   TFLite/FlatBuffer.swift      bounds-checked FlatBuffers reader
//   TFLite/TFLiteModel.swift     schema.fbs subset (Model, SubGraph, Tensor, Operator, Buffer, sparsity, quantization)
//   TFLite/TaskBundle.swift      MediaPipe `.task` zip members (stored entries, CRC-checked)
//   TFLite/ConstantDecoder.swift fp16 / int8 dequantization, DENSIFY, integer parameters
//   Graph.swift, Ops.swift       compute ops (`OpKind`) with typed options, float constants
//   ShapeInference.swift         static shapes, `withBatch(n)`
//   CPU/CPUReference.swift       plain-Swift interpreter of every op (the reference for GPU kernels)
//
//   let graph = try Graph(contentsOf: modelsDir.appendingPathComponent("face_landmarker.task"),
//                         member: "face_landmarks_detector.tflite")
//   print(graph.summary())
//   let outputs = try CPUReference().run(graph: graph, inputs: [Tensor(shape: [1, 256, 256, 3], data: pixels)])
