#!/usr/bin/env python3
"""Embed the same passages with sentence-transformers and with motif, in one
run on one machine, and print both speeds and their ratio.

Set-up (once):
    python3 -m venv .venv-peer
    .venv-peer/bin/pip install sentence-transformers
Run:
    cargo build --release
    .venv-peer/bin/python scripts/bench_peers.py --corpus ../shared/data/bbc/bbc.jsonl --limit 2000 --threads 2 --precisions f32,bf16

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


def median(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="a .jsonl corpus (one document per line) or a text file")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds; each round runs sentence-transformers then motif at every precision, and the medians are compared")
    ap.add_argument("--precisions", default="f32", help="motif precisions to run, comma separated, e.g. f32,bf16")
    ap.add_argument("--motif", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "motif"))
    ap.add_argument("--motif-args", default="", help="extra arguments for `motif bench embed`")
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

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for i, p in enumerate(passages):
            f.write(json.dumps({"id": i, "text": p}) + "\n")
        path = f.name
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), MOTIF_NO_PROGRESS="1")
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]

    # Interleaved rounds: a slow stretch on a shared machine hits both tools.
    st_runs, motif_runs = [], {p: [] for p in precisions}
    for round_ in range(args.repeat):
        start = time.perf_counter()
        model.encode(passages, batch_size=args.batch_size, normalize_embeddings=True)
        st_runs.append(len(passages) / (time.perf_counter() - start))
        for p in precisions:
            cmd = [args.motif, "bench", "embed", "--corpus", path, "--json", "--batch-size", str(args.batch_size), "--precision", p]
            cmd += args.motif_args.split()
            motif_runs[p].append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout))
        print(f"round {round_ + 1}/{args.repeat}: sentence-transformers {st_runs[-1]:.1f} passages/s, "
              + ", ".join(f"motif {p} {motif_runs[p][-1]['embed']['passages_per_second']:.1f}" for p in precisions), file=sys.stderr)
    os.unlink(path)

    st_pps = median(st_runs)
    st = {
        "passages_per_second": st_pps,
        "tokens_per_second": st_pps * tokens / len(passages),
        "runs": st_runs,
        "torch": torch.__version__,
    }
    last = motif_runs[precisions[0]][-1]
    result = {
        "passages": len(passages),
        "mean_tokens": tokens / len(passages),
        "threads": args.threads,
        "repeat": args.repeat,
        "sentence_transformers": st,
        "motif": {},
        "gemm_peak_gflops": median([r["gemm_peak_gflops"] for runs in motif_runs.values() for r in runs]),
        "machine": last["machine"],
    }
    for p, runs in motif_runs.items():
        pps = median([r["embed"]["passages_per_second"] for r in runs])
        result["motif"][p] = {
            "passages_per_second": pps,
            "tokens_per_second": median([r["embed"]["tokens_per_second"] for r in runs]),
            "gflops": median([r["embed"]["gflops"] for r in runs]),
            "runs": [r["embed"]["passages_per_second"] for r in runs],
            "ratio_passages_per_second": pps / st_pps,
            # Each round's motif figure over the same round's
            # sentence-transformers figure: a paired measure, steadier
            # than the ratio of medians when the machine drifts.
            "ratio_per_round": [r["embed"]["passages_per_second"] / s for r, s in zip(runs, st_runs)],
        }
        result["motif"][p]["ratio_per_round_median"] = median(result["motif"][p]["ratio_per_round"])
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(passages)} passages, mean {result['mean_tokens']:.1f} tokens, {args.threads} threads, batch {args.batch_size}, "
          f"median of {args.repeat} interleaved rounds")
    print(f"machine: {last['machine']['cpu']}")
    print(f"sentence-transformers (torch {torch.__version__}): {st['passages_per_second']:.1f} passages/s, {st['tokens_per_second']:.0f} tokens/s")
    peak = result["gemm_peak_gflops"]
    for p, m in result["motif"].items():
        print(f"motif {last['machine']['motif_version']} ({p}): {m['passages_per_second']:.1f} passages/s, {m['tokens_per_second']:.0f} tokens/s, "
              f"{m['gflops']:.0f} GFLOP/s = {100 * m['gflops'] / peak:.0f}% of the f32 GEMM peak ({peak:.0f} GFLOP/s); "
              f"{m['ratio_passages_per_second']:.2f}x sentence-transformers (ratio of medians; "
              f"per-round ratios {', '.join(f'{r:.2f}' for r in m['ratio_per_round'])}, median {m['ratio_per_round_median']:.2f}x)")


if __name__ == "__main__":
    sys.exit(main())
