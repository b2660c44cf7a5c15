#!/usr/bin/env python3
"""Cluster the same article vectors that `motif eval themes` clusters with
BERTopic (UMAP to 5 dimensions + HDBSCAN, its defaults) and with HDBSCAN
alone on the full 384 dimensions, and score both against the labels the way
motif does (outliers count as one more cluster; the clustered-only figures
beside them).

Set-up (once):
    python3 -m venv .venv-peer
    .venv-peer/bin/pip install bertopic scikit-learn
Run:
    cargo build --release
    target/release/motif eval themes ../shared/data/bbc/bbc.jsonl --save-vectors /tmp/bbc-articles.npy
    .venv-peer/bin/python scripts/bertopic_bbc.py ../shared/data/bbc/bbc.jsonl /tmp/bbc-articles.npy

The .npy holds one row per JSONL record (the normalised mean of its passage
vectors), so both tools cluster exactly the same embeddings.
"""

import argparse
import json
import time

import numpy as np
from sklearn import metrics


def scores(truth, pred):
    pred = np.asarray(pred)
    kept = pred != -1
    out = {
        "clusters": int(len(set(pred[kept]))),
        "outlier_share": round(float(1 - kept.mean()), 4),
        "nmi": round(metrics.normalized_mutual_info_score(truth, pred), 4),
        "ari": round(metrics.adjusted_rand_score(truth, pred), 4),
        "v_measure": round(metrics.v_measure_score(truth, pred), 4),
    }
    if kept.any():
        t = np.asarray(truth)[kept]
        out["clustered_only"] = {
            "nmi": round(metrics.normalized_mutual_info_score(t, pred[kept]), 4),
            "ari": round(metrics.adjusted_rand_score(t, pred[kept]), 4),
        }
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("vectors")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--label-field", default="label")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--min-topic-size", type=int, default=10, help="BERTopic's min_topic_size (its default: 10)")
    args = ap.parse_args()

    texts, labels = [], []
    with open(args.jsonl, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            if not str(rec.get(args.text_field, "")).strip():
                continue
            texts.append(rec[args.text_field])
            labels.append(str(rec[args.label_field]))
    vectors = np.load(args.vectors).astype(np.float32)
    assert len(vectors) == len(texts), f"{len(vectors)} vectors for {len(texts)} records"

    results = {"items": len(texts), "labels": len(set(labels))}

    from bertopic import BERTopic
    from umap import UMAP
    import hdbscan

    # BERTopic's defaults, with UMAP seeded so the run repeats.
    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=args.seed)
    start = time.perf_counter()
    topic_model = BERTopic(umap_model=umap_model, min_topic_size=args.min_topic_size, calculate_probabilities=False)
    topics, _ = topic_model.fit_transform(texts, embeddings=vectors)
    results["bertopic"] = scores(labels, topics) | {"seconds": round(time.perf_counter() - start, 2)}

    # BERTopic's own outlier reduction (by c-TF-IDF distributions is slower; embeddings is comparable to motif's).
    reduced = topic_model.reduce_outliers(texts, topics, strategy="embeddings", embeddings=vectors)
    results["bertopic_reduce_outliers"] = scores(labels, reduced)

    # Density-based clustering without reduction: HDBSCAN on the 384 dimensions.
    start = time.perf_counter()
    raw = hdbscan.HDBSCAN(min_cluster_size=args.min_topic_size, metric="euclidean").fit_predict(vectors)
    results["hdbscan_384d"] = scores(labels, raw) | {"seconds": round(time.perf_counter() - start, 2)}

    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
