#!/usr/bin/env python3
"""Embed the same passages with sentence-transformers, onnxruntime (f32 and
int8, when installed) and motif at every precision this CPU runs, in one run
on one machine, and print each system's speed against sentence-transformers.

Set-up (once):
    python3 -m venv .venv-peer
    .venv-peer/bin/pip install sentence-transformers onnxruntime onnx onnxscript
Run:
    cargo build --release
    .venv-peer/bin/python scripts/bench_peers.py --corpus ../shared/data/bbc/bbc.jsonl --limit 2000 --threads 2 --repeat 5

The passages are the corpus's paragraphs (line separated, in file order),
written to a temporary JSONL file that motif then reads, so every system
embeds exactly the same texts. sentence-transformers loads the very folder
motif uses (`motif model path`), and onnxruntime runs that model exported
to ONNX once per run (then with onnxruntime's BERT fusions; int8 is its
dynamic quantisation, per channel), so weights are identical too.

Rounds are interleaved (every system once per round) because a shared
machine drifts from minute to minute: a slow stretch then hits all systems.
The table gives each system's median over the rounds, the ratio of medians
to sentence-transformers and each round's paired ratio (that system over
sentence-transformers in the same round), and each system's cosine to
sentence-transformers' vectors.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

MOTIF_PRECISIONS = ["f32", "bf16", "int8"]


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


class Onnx:
    """The model exported to ONNX and run by onnxruntime: `f32` with the BERT
    fusions onnxruntime's optimiser applies, or `int8` (dynamic quantisation
    of the fused graph, per channel). Pools and normalises as the model's
    sentence-transformers config says (mean pooling for the default)."""

    def __init__(self, st_model, work_dir, kind, threads):
        import onnxruntime as ort

        self.tokenizer = st_model.tokenizer
        fused = os.path.join(work_dir, "model-fused.onnx")
        if not os.path.exists(fused):
            export_fused(st_model, work_dir, fused)
        path = fused
        if kind == "int8":
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            path = os.path.join(work_dir, "model-int8.onnx")
            if not os.path.exists(path):
                # The fused graph's contrib ops defeat shape inference:
                # their outputs are f32, as the quantiser is told.
                quantize_dynamic(fused, path, per_channel=True, weight_type=QuantType.QInt8,
                                 extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.version = ort.__version__

    def encode(self, passages, batch_size):
        import numpy as np

        # Longest first in batches, as sentence-transformers does, so both
        # pad alike.
        order = sorted(range(len(passages)), key=lambda i: -len(passages[i]))
        out = [None] * len(passages)
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            enc = self.tokenizer([passages[i] for i in chunk], padding=True, truncation=True, max_length=256, return_tensors="np")
            feed = {k: v.astype(np.int64) for k, v in enc.items() if k in self.inputs}
            hidden = self.session.run(None, feed)[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            for i, v in zip(chunk, pooled):
                out[i] = v
        return np.stack(out)


def export_fused(st_model, work_dir, fused):
    import torch
    from onnxruntime.transformers.optimizer import optimize_model

    bert = st_model[0].auto_model.eval()
    raw = os.path.join(work_dir, "model.onnx")
    sample = st_model.tokenizer(["an example passage", "another"], padding=True, return_tensors="pt")
    names = list(sample.keys())

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return self.inner(**dict(zip(names, args))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["hidden"] = {0: "batch", 1: "tokens"}
    kwargs = dict(input_names=names, output_names=["hidden"], dynamic_axes=axes, opset_version=17)
    try:
        torch.onnx.export(Wrapper(bert), tuple(sample[n] for n in names), raw, dynamo=False, **kwargs)
    except TypeError:  # a torch without the `dynamo` switch
        torch.onnx.export(Wrapper(bert), tuple(sample[n] for n in names), raw, **kwargs)
    config = bert.config
    optimized = optimize_model(raw, model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size)
    optimized.save_model_to_file(fused)


def run_motif(args, path, precision, env, limit=None):
    cmd = [args.motif, "bench", "embed", "--corpus", path, "--json", "--batch-size", str(args.batch_size), "--precision", precision]
    if limit:
        cmd += ["--limit", str(limit)]
    cmd += args.motif_args.split()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise RuntimeError(last.strip().removeprefix("caused by:").strip())
    return json.loads(done.stdout)


def cosine_rows(a, b):
    import numpy as np

    return float(np.mean(np.sum(a * b, axis=1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="a .jsonl corpus (one document per line) or a text file")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--limit", type=int, default=2000, help="passages to embed (0: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds; each runs every system once")
    ap.add_argument("--precisions", default="all",
                    help="motif precisions, comma separated (f32,bf16,int8), or 'all': every one this CPU runs")
    ap.add_argument("--no-onnx", action="store_true", help="leave onnxruntime out even when it is installed")
    ap.add_argument("--motif", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "motif"))
    ap.add_argument("--motif-args", default="",
                    help="extra arguments for `motif bench embed`, e.g. '--hide-cpu-features amx' for a CPU without AMX")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    passages = paragraphs(args.corpus, args.text_field, args.limit)
    model_dir = subprocess.run([args.motif, "model", "path"], check=True, capture_output=True, text=True).stdout.strip()

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    model = SentenceTransformer(model_dir, device="cpu")
    tokens = sum(len(ids) for ids in model.tokenizer(passages, truncation=True, max_length=256)["input_ids"])
    model.encode(passages[:64], batch_size=args.batch_size)  # warm-up

    work = tempfile.mkdtemp(prefix="motif-peers-")
    path = os.path.join(work, "passages.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for i, p in enumerate(passages):
            f.write(json.dumps({"id": i, "text": p}) + "\n")
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), MOTIF_NO_PROGRESS="1")

    # Which motif precisions run here: a short probe of each.
    wanted = MOTIF_PRECISIONS if args.precisions == "all" else [p.strip() for p in args.precisions.split(",") if p.strip()]
    precisions, unavailable, kernels, machine = [], {}, {}, {}
    for p in wanted:
        try:
            probe = run_motif(args, path, p, env, limit=8)
            kernels[p], machine = probe["embed"]["kernels"], probe["machine"]
            precisions.append(p)
        except RuntimeError as e:
            if args.precisions != "all":
                sys.exit(f"motif --precision {p}: {e}")
            unavailable[p] = str(e)
            print(f"motif {p}: not on this CPU ({e})", file=sys.stderr)

    onnx = {}
    if not args.no_onnx:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            print("onnxruntime is not installed: left out (pip install onnxruntime onnx onnxscript)", file=sys.stderr)
        else:
            for kind in ["f32", "int8"]:
                onnx[kind] = Onnx(model, work, kind, args.threads)
                onnx[kind].encode(passages[:64], args.batch_size)  # warm-up

    systems = ["sentence-transformers"] + [f"onnxruntime {k}" for k in onnx] + [f"motif {p}" for p in precisions]
    runs = {s: [] for s in systems}
    cosine = {}
    for round_ in range(args.repeat):
        start = time.perf_counter()
        st_vectors = model.encode(passages, batch_size=args.batch_size, normalize_embeddings=True)
        runs["sentence-transformers"].append(len(passages) / (time.perf_counter() - start))
        for kind, session in onnx.items():
            start = time.perf_counter()
            vectors = session.encode(passages, args.batch_size)
            runs[f"onnxruntime {kind}"].append(len(passages) / (time.perf_counter() - start))
            cosine[f"onnxruntime {kind}"] = cosine_rows(vectors, st_vectors)
        for p in precisions:
            runs[f"motif {p}"].append(run_motif(args, path, p, env)["embed"]["passages_per_second"])
        print(f"round {round_ + 1}/{args.repeat}: " + ", ".join(f"{s} {runs[s][-1]:.1f}" for s in systems), file=sys.stderr)

    # motif's vectors against sentence-transformers' (the last round's),
    # over the passages motif keeps whole (it cuts the few longer than the
    # model's window into windows where sentence-transformers truncates).
    for p in precisions:
        done = subprocess.run([args.motif, "embed", path, "--format", "jsonl", "--precision", p,
                               "--batch-size", str(args.batch_size)] + args.motif_args.split(),
                              check=True, capture_output=True, text=True, env=env)
        rows = {}
        for line in done.stdout.splitlines():
            r = json.loads(line)
            rows.setdefault(r["doc"], []).append(r["embedding"])
        whole = [(int(doc.rsplit(":", 1)[-1]), v[0]) for doc, v in rows.items() if len(v) == 1]
        cosine[f"motif {p}"] = cosine_rows(np.array([v for _, v in whole], dtype=np.float32), st_vectors[[i for i, _ in whole]])
    for name in os.listdir(work):
        os.unlink(os.path.join(work, name))
    os.rmdir(work)

    st_runs = runs["sentence-transformers"]
    st_pps = median(st_runs)
    result = {
        "passages": len(passages),
        "mean_tokens": tokens / len(passages),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "repeat": args.repeat,
        "motif_args": args.motif_args,
        "machine": machine,
        "torch": torch.__version__,
        "onnxruntime": next(iter(onnx.values())).version if onnx else None,
        "unavailable": unavailable,
        "systems": {},
    }
    for s in systems:
        pps = median(runs[s])
        per_round = [r / b for r, b in zip(runs[s], st_runs)]
        result["systems"][s] = {
            "passages_per_second": pps,
            "tokens_per_second": pps * tokens / len(passages),
            "runs": runs[s],
            "ratio_of_medians": pps / st_pps,
            "ratio_per_round": per_round,
            "ratio_per_round_median": median(per_round),
            "cosine_to_sentence_transformers": cosine.get(s),
            "kernels": kernels.get(s.removeprefix("motif ")) if s.startswith("motif ") else None,
        }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(passages)} passages, mean {result['mean_tokens']:.1f} tokens, {args.threads} threads, batch {args.batch_size}, "
          f"{args.repeat} interleaved rounds; {machine.get('cpu', '')}"
          + (f"; motif {args.motif_args}" if args.motif_args else ""))
    print()
    print("| system | passages/s, median (range) | tokens/s | vs sentence-transformers: ratio of medians | per-round ratios (median) | cosine to sentence-transformers |")
    print("|---|---|---|---|---|---|")
    for s in systems:
        r = result["systems"][s]
        label = s
        if s == "sentence-transformers":
            label += f" (torch {torch.__version__})"
        elif s.startswith("onnxruntime"):
            label += f" {result['onnxruntime']}"
        elif r["kernels"] and r["kernels"] != s.removeprefix("motif "):
            label += f" ({r['kernels']})"
        c = r["cosine_to_sentence_transformers"]
        print(f"| {label} | {r['passages_per_second']:.1f} ({min(r['runs']):.1f}–{max(r['runs']):.1f}) | {r['tokens_per_second']:,.0f} | "
              f"{r['ratio_of_medians']:.2f}× | {', '.join(f'{x:.2f}' for x in r['ratio_per_round'])} ({r['ratio_per_round_median']:.2f}×) | "
              f"{'' if c is None else f'{c:.5f}'} |")
    for p, why in unavailable.items():
        print(f"\nmotif {p}: not on this CPU ({why})")


if __name__ == "__main__":
    sys.exit(main())
