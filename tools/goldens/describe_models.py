#!/usr/bin/env python3
"""Print what the Swift engine must implement for every network in Models/.

For each .tflite (and each member of a .task bundle) this prints:
  - the operators in execution order, counted by builtin name,
  - input / output tensors: name, shape, dtype, quantization (scale, zero point),
  - a summary of the constant (weight) tensors by dtype, so it is visible which
    models store fp16 weights behind DEQUANTIZE, and which store int8 weights.

Usage (after tools/goldens/setup.sh):
    tools/.venv/bin/python tools/goldens/describe_models.py            # text
    tools/.venv/bin/python tools/goldens/describe_models.py --json     # machine-readable

make_goldens.py imports `describe()` from here to put the op list into each golden's JSON.
"""
import argparse
import collections
import json
import os
import sys
import zipfile

import numpy as np

try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError:  # pragma: no cover - fallback runtime
    from tflite_runtime.interpreter import Interpreter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "Models")


def model_bytes(file_name, member=None):
    path = os.path.join(MODELS, file_name)
    if member is None:
        with open(path, "rb") as f:
            return f.read()
    with zipfile.ZipFile(path) as z:
        return z.read(member)


def make_interpreter(content, preserve_all=False):
    kwargs = {}
    if preserve_all:
        kwargs["experimental_preserve_all_tensors"] = True
    # The reference is the plain builtin-op CPU kernels.  XNNPACK is disabled
    # (experimental_op_resolver_type=BUILTIN_WITHOUT_DEFAULT_DELEGATES) where the
    # runtime allows it, so the goldens come from the reference kernels.
    try:
        from ai_edge_litert.interpreter import OpResolverType
        kwargs["experimental_op_resolver_type"] = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    except ImportError:  # pragma: no cover
        pass
    it = Interpreter(model_content=content, num_threads=1, **kwargs)
    it.allocate_tensors()
    return it


def _tensor_info(d):
    q = d.get("quantization_parameters", {})
    scales = np.asarray(q.get("scales", []), dtype=np.float64)
    zps = np.asarray(q.get("zero_points", []), dtype=np.int64)
    return {
        "name": d["name"],
        "index": int(d["index"]),
        "shape": [int(s) for s in d["shape"]],
        "dtype": np.dtype(d["dtype"]).name,
        "quantization": {
            "scale": float(d["quantization"][0]),
            "zero_point": int(d["quantization"][1]),
            "per_channel_scales": len(scales),
            "quantized_dimension": int(q.get("quantized_dimension", 0)),
        } if (len(scales) or d["quantization"][0] != 0.0) else None,
    }


_ACT = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
_PAD = {0: "SAME", 1: "VALID"}


def op_variants(content):
    """Distinct builtin options per operator (stride, padding, fused activation, ...),
    read from the flatbuffer with the schema that ai-edge-litert ships."""
    from ai_edge_litert import schema_py_generated as sch
    names = {v: k for k, v in vars(sch.BuiltinOperator).items() if not k.startswith("_")}
    model = sch.ModelT.InitFromPackedBuf(bytearray(content), 0)
    variants = collections.Counter()
    for sg in model.subgraphs:
        for op in sg.operators:
            oc = model.operatorCodes[op.opcodeIndex]
            code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
            name = names.get(code, str(code))
            opts = {}
            if op.builtinOptions is not None:
                for k, v in sorted(vars(op.builtinOptions).items()):
                    if k == "fusedActivationFunction":
                        v = _ACT.get(v, v)
                    elif k == "padding":
                        v = _PAD.get(v, v)
                    elif isinstance(v, (list, np.ndarray)):
                        v = list(np.asarray(v).tolist())
                    opts[k] = v
            # kernel size of convolutions / pools, from the weight shape or the options
            if name in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(op.inputs) > 1:
                shp = list(sg.tensors[op.inputs[1]].shape)
                opts["kernel"] = f"{shp[1]}x{shp[2]}"
            variants[(name, json.dumps(opts, sort_keys=True))] += 1
    out = collections.defaultdict(list)
    for (name, opts), n in sorted(variants.items()):
        out[name].append({"count": n, "options": json.loads(opts)})
    return dict(out)


def describe(file_name, member=None):
    content = model_bytes(file_name, member)
    it = make_interpreter(content)
    ops = it._get_ops_details()  # execution order
    op_names = [o["op_name"] for o in ops]
    counts = collections.Counter(op_names)
    tensors = {int(t["index"]): t for t in it.get_tensor_details()}
    produced, consumed = set(), set()
    for o in ops:
        produced.update(int(i) for i in o["outputs"])
        consumed.update(int(i) for i in o["inputs"] if int(i) >= 0)
    inputs = {int(d["index"]) for d in it.get_input_details()}
    # constants = tensors read by some op, written by none, and not a model input
    const_by_dtype = collections.Counter()
    const_quant = collections.Counter()
    for idx in sorted(consumed - produced - inputs):
        t = tensors[idx]
        dt = np.dtype(t["dtype"]).name
        n = int(np.prod(t["shape"])) if len(t["shape"]) else 1
        const_by_dtype[dt] += n
        if t["quantization"][0] != 0.0 or len(t["quantization_parameters"]["scales"]):
            const_quant[dt] += 1
    return {
        "file": file_name,
        "member": member,
        "inputs": [_tensor_info(d) for d in it.get_input_details()],
        "outputs": [_tensor_info(d) for d in it.get_output_details()],
        "op_counts": dict(sorted(counts.items())),
        "op_sequence": op_names,
        "op_variants": op_variants(content),
        "num_ops": len(op_names),
        "num_tensors": len(tensors),
        "constant_elements_by_dtype": dict(const_by_dtype),
        "quantized_constant_tensors_by_dtype": dict(const_quant),
    }


ALL_MODELS = [
    ("face_landmarker.task", "face_detector.tflite"),
    ("face_landmarker.task", "face_landmarks_detector.tflite"),
    ("face_landmarker.task", "face_blendshapes.tflite"),
    ("face_detection_short_range.tflite", None),
    ("face_detection_full_range_sparse.tflite", None),
    ("emotion_fer_quantized.tflite", None),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of text")
    ap.add_argument("--variants", action="store_true",
                    help="also list each operator's distinct options (stride, padding, ...)")
    args = ap.parse_args()
    descs = []
    for f, m in ALL_MODELS:
        try:
            descs.append(describe(f, m))
        except Exception as e:  # report, keep going
            descs.append({"file": f, "member": m, "error": repr(e)})
    if args.json:
        print(json.dumps(descs, indent=1))
        return
    for d in descs:
        title = d["file"] + (" → " + d["member"] if d["member"] else "")
        print("=" * 78)
        print(title)
        if "error" in d:
            print("  ERROR:", d["error"])
            continue
        for kind in ("inputs", "outputs"):
            for t in d[kind]:
                print(f"  {kind[:-1]:6s} #{t['index']:<4d} {t['name']!r:40s} {t['shape']} {t['dtype']}"
                      + (f" quant={t['quantization']}" if t["quantization"] else ""))
        print(f"  ops ({d['num_ops']} in execution order, {len(d['op_counts'])} kinds):")
        for name, n in d["op_counts"].items():
            print(f"    {name:28s} {n}")
            if args.variants:
                for v in d["op_variants"].get(name, []):
                    print(f"        ×{v['count']:<4d} {json.dumps(v['options'])}")
        print(f"  constant elements by dtype: {d['constant_elements_by_dtype']}")
        if d["quantized_constant_tensors_by_dtype"]:
            print(f"  quantized constant tensors: {d['quantized_constant_tensors_by_dtype']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
