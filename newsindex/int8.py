"""Static int8 quantisation of an OpenVINO export, with OpenVINO alone.

The model's linear layers (a ``MatMul`` by a constant weight matrix) get a ``FakeQuantize`` on each
of their two inputs: the weights per output column, symmetric, 255 levels; the activations per tensor,
256 levels over the range they took on calibration texts. OpenVINO's CPU plugin then runs those layers
in 8-bit integers; the rest (attention scores, softmax, layer norms) keeps the float precision.

Every linear layer runs in int8, but a few input channels do not fit one 8-bit range: the classic
outlier dimensions of BERT-family models (after some layer norms one channel reaches 28 where the 99th
percentile of the others is 6; after the activation function of the feed-forward layers, 24 against 5).
A range wide enough for them would leave the other channels only a few levels. Those channels, found on
the calibration texts (wider than ``OUTLIER_FACTOR`` times the 99th percentile of all channels' widths),
are taken out of the int8 product (their weight rows set to zero, their values clamped by the range)
and multiplied in float beside it, then added after the layer's bias. That keeps the vectors closer to
float32 than leaving the down-projections in float did, and runs faster (see docs/benchmarks.md).

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
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "CALIBRATION_FILE",
    "OUTLIER_FACTOR",
    "activation_ranges",
    "calibration_digest",
    "calibration_texts",
    "outlier_channels",
    "quantize_model",
]

CALIBRATION_FILE = "calibration.txt"
# 8-bit activations use all 256 levels (asymmetric); weights use 255, symmetric around zero, as the
# CPU plugin's int8 kernels expect.
_ACTIVATION_LEVELS = 256
_WEIGHT_LEVELS = 255
#: A channel this many times wider than the 99th percentile of its tensor's channels is multiplied in float.
OUTLIER_FACTOR = 2.0


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
    """The layers to quantise: ``MatMul`` nodes by a constant weight matrix."""
    layers = []
    for node in model.get_ordered_ops():
        if node.get_type_name() != "MatMul":
            continue
        weights = node.input(1).get_source_output().get_node()
        if weights.get_type_name() != "Constant":
            continue
        if len(weights.get_output_shape(0)) != 2:  # not a plain weight matrix: left as it is
            continue
        layers.append(node)
    return layers


def _source_key(output: Any) -> tuple[str, int]:
    return output.get_node().get_friendly_name(), output.get_index()


def activation_ranges(
    ov: Any, model_file: Path, feeds: Sequence[dict[str, Any]]
) -> dict[tuple[str, int], tuple[FloatArray, FloatArray]]:
    """The lowest and highest value each channel of each linear layer's input took over ``feeds``,
    in float32."""
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
    low: dict[tuple[str, int], FloatArray] = {}
    high: dict[tuple[str, int], FloatArray] = {}
    for feed in feeds:
        results = request.infer(feed)
        for key, output in zip(keys, outputs, strict=True):
            values = np.asarray(results[output], dtype=np.float32)
            values = values.reshape(-1, values.shape[-1])
            # The range always holds zero, so that padding maps exactly.
            low[key] = np.minimum(low.get(key, 0.0), values.min(axis=0))
            high[key] = np.maximum(high.get(key, 0.0), values.max(axis=0))
    return {key: (low[key], high[key]) for key in keys}


def outlier_channels(low: FloatArray, high: FloatArray) -> IntArray:
    """The input channels too wide for the tensor's 8-bit range: wider than ``OUTLIER_FACTOR`` times
    the 99th percentile of the channels' widths."""
    width = np.maximum(-low, high)
    return np.flatnonzero(width > OUTLIER_FACTOR * np.percentile(width, 99)).astype(np.int64)


def quantize_model(
    ov: Any, model_file: Path, feeds: Sequence[dict[str, Any]], target: Path
) -> dict[str, int]:
    """Write the int8 model of ``model_file`` (float32 OpenVINO IR) to ``target``, calibrated on
    ``feeds`` (the model's inputs for single texts); returns how many layers were quantised
    (``int8_layers``) and how many of their input channels are multiplied in float (``float_channels``)."""
    from openvino import opset13

    ranges = activation_ranges(ov, model_file, feeds)
    model = ov.Core().read_model(str(model_file))
    shared: dict[tuple[str, int], Any] = {}
    layers = _linear_layers(model)
    # Named as calibrated: a layer whose input is rewired below (a float branch added to an earlier
    # layer's output) reads a new node, which has no range of its own.
    keys = [_source_key(layer.input(0).get_source_output()) for layer in layers]
    float_channels = 0
    for layer, key in zip(layers, keys, strict=True):
        source = layer.input(0).get_source_output()
        low_c, high_c = ranges[key]
        outliers = outlier_channels(low_c, high_c)
        float_channels += outliers.size
        if key not in shared:
            # One FakeQuantize per tensor, shared by the layers that read it (query, key and value).
            # Its range leaves out the outlier channels, which the float branch below carries.
            inliers = np.ones(low_c.shape, dtype=bool)
            inliers[outliers] = False
            low, high = (
                opset13.constant(np.float32(v)) for v in (low_c[inliers].min(), high_c[inliers].max())
            )
            shared[key] = opset13.fake_quantize(source, low, high, low, high, _ACTIVATION_LEVELS)
        layer.input(0).replace_source_output(shared[key].output(0))
        weights_node = layer.input(1).get_source_output().get_node()
        weights = np.asarray(weights_node.get_data(), dtype=np.float32)
        transposed = bool(layer.get_attributes().get("transpose_b"))
        # The weight matrix is (inputs, outputs) unless the MatMul transposes it.
        rows = weights.T if transposed else weights
        quantised = rows.copy()
        quantised[outliers] = 0.0
        # Per output column, in the layout the MatMul reads.
        scale = np.maximum(np.abs(quantised).max(axis=0, keepdims=True), np.float32(1e-8))
        if transposed:
            quantised, scale = quantised.T, scale.T
        low_w, high_w = opset13.constant(-scale), opset13.constant(scale)
        fake = opset13.fake_quantize(
            opset13.constant(np.ascontiguousarray(quantised)).output(0),
            low_w,
            high_w,
            low_w,
            high_w,
            _WEIGHT_LEVELS,
        )
        layer.input(1).replace_source_output(fake.output(0))
        if outliers.size:
            # The few outlier channels, multiplied in float and added to the int8 product.
            picked = opset13.gather(source, opset13.constant(outliers), opset13.constant(np.int64(-1)))
            extra = opset13.matmul(picked, opset13.constant(rows[outliers]), False, False)
            # Added after the bias, so that the CPU plugin still fuses the bias into the int8 layer.
            result = layer.output(0)
            after = list(result.get_target_inputs())
            if len(after) == 1 and after[0].get_node().get_type_name() == "Add":
                result = after[0].get_node().output(0)
            consumers = list(result.get_target_inputs())
            total = opset13.add(result, extra)
            for consumer in consumers:
                consumer.replace_source_output(total.output(0))
    model.validate_nodes_and_infer_types()
    ov.save_model(model, str(target), compress_to_fp16=False)
    return {"int8_layers": len(layers), "float_channels": float_channels}
