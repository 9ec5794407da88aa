#!/usr/bin/python3
"""Checks ONNX files with onnx.checker (full check, shape inference included) and prints each graph's inputs,
outputs and operators. Needs Debian's python3-onnx. Exit code 1 if any file is refused.

    /usr/bin/python3 tools/onnx_check.py model.onnx [more.onnx ...]
"""
import sys

import onnx


def main(paths):
    failed = 0
    for path in paths:
        try:
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
        except Exception as error:  # the checker raises several kinds; each is one refused file
            print(f"{path}: refused: {error}")
            failed += 1
            continue
        graph = model.graph
        ops = sorted({node.op_type for node in graph.node})
        dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        print(f"{path}: ok (IR {model.ir_version}, opset {model.opset_import[0].version}); "
              f"inputs {[(i.name, dims(i)) for i in graph.input]}, outputs {[(o.name, dims(o)) for o in graph.output]}, "
              f"{len(graph.node)} nodes: {', '.join(ops)}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
