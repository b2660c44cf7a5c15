#!/usr/bin/env python3
"""Embed the same passages with sentence-transformers and with motif, in one
run on one machine, and print both speeds and their ratio.

Set-up (once):
    python3 -m venv .venv-peer
    .venv-peer/bin/pip install sentence-transformers
Run:
    cargo build --release
    .venv-peer/bin/python scripts/bench_peers.py --corpus ../shared/data/bbc/bbc.jsonl --limit 2000 --threads 2

The passages are the corpus's paragraphs (blank-line or line separated, in
file order), written to a temporary JSONL file that motif then reads, so both
tools embed exactly the same texts. sentence-transformers loads the very
folder motif uses (`motif model path`), so weights are identical too.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def paragraphs(corpus, text_field, limit):
    out = []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            text = json.loads(line)[text_field] if corpus.endswith(".jsonl") else line
            for para in text.split("\n"):
                para = para.strip()
                if para:
                    out.append(para)
                    if limit and len(out) >= limit:
                        return out
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="a .jsonl corpus (one document per line) or a text file")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--motif", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "motif"))
    ap.add_argument("--motif-args", default="", help="extra arguments for `motif bench embed`, e.g. '--precision bf16'")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    passages = paragraphs(args.corpus, args.text_field, args.limit)
    model_dir = subprocess.run([args.motif, "model", "path"], check=True, capture_output=True, text=True).stdout.strip()

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    model = SentenceTransformer(model_dir, device="cpu")
    tokens = sum(len(ids) for ids in model.tokenizer(passages, truncation=True, max_length=256)["input_ids"])
    model.encode(passages[:64], batch_size=args.batch_size)  # warm-up
    start = time.perf_counter()
    model.encode(passages, batch_size=args.batch_size, normalize_embeddings=True)
    st_seconds = time.perf_counter() - start

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for i, p in enumerate(passages):
            f.write(json.dumps({"id": i, "text": p}) + "\n")
        path = f.name
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), MOTIF_NO_PROGRESS="1")
    cmd = [args.motif, "bench", "embed", "--corpus", path, "--json", "--batch-size", str(args.batch_size)]
    cmd += args.motif_args.split()
    motif = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
    os.unlink(path)

    st = {
        "passages_per_second": len(passages) / st_seconds,
        "tokens_per_second": tokens / st_seconds,
        "seconds": st_seconds,
        "torch": torch.__version__,
    }
    m = motif["embed"]
    result = {
        "passages": len(passages),
        "mean_tokens": tokens / len(passages),
        "threads": args.threads,
        "sentence_transformers": st,
        "motif": {k: m[k] for k in ("passages_per_second", "tokens_per_second", "embed_seconds", "gflops", "precision")},
        "gemm_peak_gflops": motif["gemm_peak_gflops"],
        "ratio_passages_per_second": m["passages_per_second"] / st["passages_per_second"],
        "machine": motif["machine"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(passages)} passages, mean {result['mean_tokens']:.1f} tokens, {args.threads} threads, batch {args.batch_size}")
    print(f"machine: {motif['machine']['cpu']}")
    print(f"sentence-transformers (torch {torch.__version__}): {st['passages_per_second']:.1f} passages/s, {st['tokens_per_second']:.0f} tokens/s")
    print(f"motif {motif['machine']['motif_version']} ({m['precision']}): {m['passages_per_second']:.1f} passages/s, {m['tokens_per_second']:.0f} tokens/s, "
          f"{m['gflops']:.0f} GFLOP/s = {100 * m['gflops'] / motif['gemm_peak_gflops']:.0f}% of the f32 GEMM peak ({motif['gemm_peak_gflops']:.0f} GFLOP/s)")
    print(f"motif / sentence-transformers: {result['ratio_passages_per_second']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
