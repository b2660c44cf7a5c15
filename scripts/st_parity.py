"""Parity of motif's vectors with sentence-transformers' for any model.

    motif embed seeds/ --model all-mpnet-base-v2 > /tmp/motif.jsonl
    python scripts/st_parity.py MODEL_FOLDER /tmp/motif.jsonl

MODEL_FOLDER is the model's complete sentence-transformers folder (as
sentence-transformers itself saves it, with tokenizer_config.json), e.g.
the folder the all-mpnet-base-v2 PyPI parts unzip to. Each passage's text
is embedded by sentence-transformers on the CPU and compared with the
vector motif wrote for it; prints the lowest and mean cosine. Needs
sentence-transformers (pip install sentence-transformers)."""
import json
import sys

import numpy as np
from sentence_transformers import SentenceTransformer

folder, jsonl = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(jsonl, encoding="utf-8") if line.strip()]
texts = [r["text"] for r in rows]
mine = np.array([r["embedding"] for r in rows], dtype=np.float64)
mine /= np.linalg.norm(mine, axis=1, keepdims=True)
theirs = SentenceTransformer(folder, device="cpu").encode(texts, normalize_embeddings=True, batch_size=16)
cos = (mine * theirs.astype(np.float64)).sum(1)
worst = int(cos.argmin())
print(f"{len(rows)} passages: lowest cosine {cos.min():.7f}, mean {cos.mean():.7f} (lowest: {texts[worst][:60]!r})")
