#!/usr/bin/env python3
"""Golden for facefx's .tflite writer: runs Tests/Fixtures/goldens/tflite_writer_classifier.tflite (written by
TFLiteWriterTests with FACEFX_WRITE_FIXTURES=1) in the TFLite interpreter on the test's input and writes
tflite_writer_classifier.json beside it. Same runtime as make_goldens.py (ai-edge-litert, builtin CPU
kernels without delegates, 1 thread).
usage: tools/.venv/bin/python tools/goldens/written_model_golden.py"""
import hashlib, json, pathlib
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

d = pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/goldens"
model = d / "tflite_writer_classifier.tflite"
it = Interpreter(model_path=str(model), num_threads=1,
                 experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
it.allocate_tensors()
# The test's input: (i * 3 mod 17) / 17 for i in 0..<36, NHWC 1x6x6x1.
x = np.array([((i * 3) % 17) / 17 for i in range(36)], dtype=np.float32)
it.set_tensor(it.get_input_details()[0]["index"], x.reshape(1, 6, 6, 1))
it.invoke()
out = it.get_tensor(it.get_output_details()[0]["index"]).reshape(-1)
(d / "tflite_writer_classifier.json").write_text(json.dumps({
    "model": model.name, "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
    "runtime": "ai-edge-litert Interpreter, BUILTIN_WITHOUT_DEFAULT_DELEGATES, 1 thread",
    "input": [float(v) for v in x], "output": [float(v) for v in out]}, indent=1) + "\n")
print(out)
