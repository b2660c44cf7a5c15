#!/usr/bin/env python3
"""hnswlib on the same vectors as `motif bench index`: build time, queries/s
and recall@k against exact search, printed as one JSON object.

Set-up (once):
    python3 -m venv .venv-peer
    .venv-peer/bin/pip install hnswlib numpy
Run beside motif, on the same vectors, in the same run:
    cargo build --release
    target/release/motif bench index --n 100000 --peer .venv-peer/bin/python
    target/release/motif bench index --vectors bbc.npy --n 0 --peer .venv-peer/bin/python
or alone on a .npy file of float32 rows:
    .venv-peer/bin/python scripts/peer_hnswlib.py vectors.npy --queries 1000

Queries are stored rows chosen exactly as motif chooses them (every
n // queries-th row), so both recall figures use the same queries. With
--threads T, hnswlib builds on T threads and answers the queries on T
threads (one query at a time per thread), as motif does in the same run.
With --add F (e.g. 0.01), it also builds over the first 1 - F of the rows
and times adding the rest, as motif's "add 1 %" phase does.
"""

import argparse
import importlib.metadata
import json
import time

import hnswlib
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("vectors", help=".npy file of float32 rows (unit length)")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef-search", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="threads for building and for queries")
    ap.add_argument("--add", type=float, default=0.0, help="share of rows to add to a graph of the rest (0: skip)")
    args = ap.parse_args()

    data = np.load(args.vectors).astype(np.float32, copy=False)
    n, dim = data.shape
    step = max(n // max(args.queries, 1), 1)
    qidx = np.arange(0, n, step)[: args.queries]
    queries = data[qidx]

    index = hnswlib.Index(space="ip", dim=dim)
    start = time.perf_counter()
    index.init_index(max_elements=n, ef_construction=args.ef_construction, M=args.m, random_seed=100)
    index.set_num_threads(args.threads)
    index.add_items(data, np.arange(n))
    build = time.perf_counter() - start

    index.set_ef(max(args.ef_search, args.k))
    index.set_num_threads(args.threads)
    start = time.perf_counter()
    labels, _ = index.knn_query(queries, k=args.k)
    search = time.perf_counter() - start

    add_seconds = None
    add_labels = None
    if args.add > 0:
        base = n - int(n * args.add)
        grown = hnswlib.Index(space="ip", dim=dim)
        grown.init_index(max_elements=n, ef_construction=args.ef_construction, M=args.m, random_seed=100)
        grown.set_num_threads(args.threads)
        grown.add_items(data[:base], np.arange(base))
        start = time.perf_counter()
        grown.add_items(data[base:], np.arange(base, n))
        add_seconds = time.perf_counter() - start
        grown.set_ef(max(args.ef_search, args.k))
        add_labels, _ = grown.knn_query(queries, k=args.k)

    def hits(exact_ids, approx_ids, row_scores, kth):
        exact_set = set(exact_ids.tolist())
        return sum(1 for a in approx_ids.tolist() if a in exact_set or row_scores[a] >= kth - 1e-5)

    # Exact top-k by one matrix product per block of queries; ties by row,
    # as motif orders them.
    start = time.perf_counter()
    found = 0
    found_after_add = 0
    for first in range(0, len(queries), 256):
        block = queries[first : first + 256]
        scores = block @ data.T
        top = np.argpartition(-scores, args.k - 1, axis=1)[:, : args.k]
        # As motif's recall_at_k (and ann-benchmarks): a hit scoring as high
        # as the exact k-th, within float error, counts whatever its id.
        kth = scores[np.arange(len(block))[:, None], top].min(axis=1)
        for j, (row, approx) in enumerate(zip(top, labels[first : first + 256])):
            found += hits(row, approx, scores[j], kth[j])
            if add_labels is not None:
                found_after_add += hits(row, add_labels[first + j], scores[j], kth[j])
    exact = time.perf_counter() - start
    extra = {}
    if add_seconds is not None:
        extra["add_seconds"] = round(add_seconds, 3)
        extra["recall_after_add"] = round(found_after_add / (len(queries) * args.k), 4)

    print(
        json.dumps(
            {
                "tool": "hnswlib " + importlib.metadata.version("hnswlib"),
                "vectors": int(n),
                "dim": int(dim),
                "queries": int(len(queries)),
                "build_threads": args.threads,
                "build_seconds": round(build, 3),
                "queries_per_second": round(len(queries) / max(search, 1e-9), 1),
                "recall_at_k": round(found / (len(queries) * args.k), 4),
                "numpy_exact_seconds": round(exact, 3),
                **extra,
            }
        )
    )


if __name__ == "__main__":
    main()
