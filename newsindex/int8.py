"""Static int8 quantisation of an OpenVINO export, with OpenVINO alone.

The model's linear layers (a ``MatMul`` by a constant weight matrix) get a ``FakeQuantize`` on each
of their two inputs: the weights per output column, symmetric, 255 levels; the activations per tensor,
256 levels over the range they took on calibration texts. OpenVINO's CPU plugin then runs those layers
in 8-bit integers; the rest (attention scores, softmax, layer norms) keeps the float precision.

Down-projections, the layers with more inputs than outputs (the second feed-forward layer of each
transformer block), stay in float. They read the activation function's output, in which a few channels
reach values tens of times larger than the rest: one 8-bit range over the whole tensor cannot hold
both. Quantising them too made the model only a little faster but cost 0.03 of dense MAP on the TIME
retrieval set (0.591 against 0.621); without them, 0.615 (see docs/benchmarks.md).

The calibration texts are invented news passages shipped with the package (``calibration.txt``), run
one at a time so that no padding enters the ranges. NNCF, OpenVINO's own quantiser, gives vectors as
close, but it sends usage telemetry by default, writes to standard output and pulls in scikit-learn
and scipy; a library must do none of that, so the few steps needed are done here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CALIBRATION_FILE", "calibration_digest", "calibration_texts", "quantize_model"]

CALIBRATION_FILE = "calibration.txt"
# 8-bit activations use all 256 levels (asymmetric); weights use 255, symmetric around zero, as the
# CPU plugin's int8 kernels expect.
_ACTIVATION_LEVELS = 256
_WEIGHT_LEVELS = 255


def _calibration_source() -> str:
    return resources.files("newsindex").joinpath(CALIBRATION_FILE).read_text(encoding="utf-8")


def calibration_texts() -> list[str]:
    """The shipped calibration passages: blank-line separated paragraphs, ``#`` lines skipped."""
    lines = [line for line in _calibration_source().splitlines() if not line.startswith("#")]
    paragraphs = "\n".join(lines).split("\n\n")
    return [" ".join(p.split()) for p in paragraphs if p.strip()]


def calibration_digest() -> str:
    """A digest of the calibration texts: part of the cache key, so new texts give a new model."""
    return hashlib.sha256(_calibration_source().encode("utf-8")).hexdigest()[:12]


def _linear_layers(model: Any) -> list[Any]:
    """The layers to quantise: ``MatMul`` nodes by a constant weight matrix, down-projections left out."""
    layers = []
    for node in model.get_ordered_ops():
        if node.get_type_name() != "MatMul":
            continue
        weights = node.input(1).get_source_output().get_node()
        if weights.get_type_name() != "Constant":
            continue
        shape = list(weights.get_output_shape(0))
        if len(shape) != 2:  # not a plain weight matrix: left as it is
            continue
        inputs, outputs = reversed(shape) if node.get_attributes().get("transpose_b") else shape
        if inputs <= outputs:
            layers.append(node)
    return layers


def _source_key(output: Any) -> tuple[str, int]:
    return output.get_node().get_friendly_name(), output.get_index()


def activation_ranges(
    ov: Any, model_file: Path, feeds: Sequence[dict[str, Any]]
) -> dict[tuple[str, int], tuple[float, float]]:
    """The lowest and highest value each linear layer's input took over ``feeds``, in float32."""
    core = ov.Core()
    model = core.read_model(str(model_file))
    sources: dict[tuple[str, int], Any] = {}
    for layer in _linear_layers(model):
        source = layer.input(0).get_source_output()
        sources.setdefault(_source_key(source), source)
    keys = list(sources)
    model.add_outputs(list(sources.values()))
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    # add_outputs appends after the model's own output, in the order given.
    outputs = compiled.outputs[1 : 1 + len(keys)]
    low = dict.fromkeys(keys, 0.0)  # the range always holds zero, so that padding maps exactly
    high = dict.fromkeys(keys, 0.0)
    for feed in feeds:
        results = request.infer(feed)
        for key, output in zip(keys, outputs, strict=True):
            values = np.asarray(results[output])
            low[key] = min(low[key], float(values.min()))
            high[key] = max(high[key], float(values.max()))
    return {key: (low[key], high[key]) for key in keys}


def quantize_model(ov: Any, model_file: Path, feeds: Sequence[dict[str, Any]], target: Path) -> int:
    """Write the int8 model of ``model_file`` (float32 OpenVINO IR) to ``target``, calibrated on
    ``feeds`` (the model's inputs for single texts); returns how many layers were quantised."""
    from openvino import opset13

    ranges = activation_ranges(ov, model_file, feeds)
    model = ov.Core().read_model(str(model_file))
    shared: dict[tuple[str, int], Any] = {}
    layers = _linear_layers(model)
    for layer in layers:
        source = layer.input(0).get_source_output()
        key = _source_key(source)
        if key not in shared:
            # One FakeQuantize per tensor, shared by the layers that read it (query, key and value).
            low, high = (opset13.constant(np.float32(v)) for v in ranges[key])
            shared[key] = opset13.fake_quantize(source, low, high, low, high, _ACTIVATION_LEVELS)
        layer.input(0).replace_source_output(shared[key].output(0))
        weights_node = layer.input(1).get_source_output().get_node()
        weights = np.asarray(weights_node.get_data(), dtype=np.float32)
        # The weight matrix is (inputs, outputs) unless the MatMul transposes it.
        axis = 1 if layer.get_attributes().get("transpose_b") else 0
        scale = np.maximum(np.abs(weights).max(axis=axis, keepdims=True), np.float32(1e-8))
        low_w, high_w = opset13.constant(-scale), opset13.constant(scale)
        fake = opset13.fake_quantize(weights_node.output(0), low_w, high_w, low_w, high_w, _WEIGHT_LEVELS)
        layer.input(1).replace_source_output(fake.output(0))
    model.validate_nodes_and_infer_types()
    ov.save_model(model, str(target), compress_to_fp16=False)
    return len(layers)
