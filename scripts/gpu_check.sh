#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and CUDA but no network
# and no crate registry: one command, well within 10 minutes.
#
#   bash scripts/gpu_check.sh gpu-bundle.tar.gz      (built by scripts/make_gpu_bundle.sh)
#
# 1. `motif bench embed --device cuda` on BBC News paragraphs at batch
#    sizes 32 to 512, bf16 then f32: passages/s and tokens/s;
# 2. parity: the GPU's vectors of 2,000 paragraphs against the CPU's f32
#    vectors made when the bundle was built (mean and lowest cosine; the
#    bound is a lowest cosine of 0.999 for f32, a mean of 0.999 for bf16);
# 3. STS-B test on the GPU (f32 gives 82.03 on the CPU).
# Prints one summary table and writes every figure to $OUT/gpu_check.json
# when $OUT is set (the device tool brings $OUT back). Exits non-zero when
# a parity or STS-B bound fails.
# MOTIF_GPU_CHECK_DEVICE=cpu runs the same steps on the CPU, a trial of the
# script and the bundle; MOTIF_GPU_CHECK_PRECISIONS (default "bf16 f32"),
# MOTIF_GPU_CHECK_BATCHES (default "32 64 128 256 512") and
# MOTIF_GPU_CHECK_LIMIT (passages to time; default 0, all 12,860 BBC
# paragraphs) make it short, e.g. on a CPU without bf16:
#   MOTIF_GPU_CHECK_DEVICE=cpu MOTIF_GPU_CHECK_PRECISIONS=f32 MOTIF_GPU_CHECK_BATCHES=32 \
#   MOTIF_GPU_CHECK_LIMIT=300 bash scripts/gpu_check.sh gpu-bundle.tar.gz
set -euo pipefail
bundle="$(realpath "${1:?usage: gpu_check.sh gpu-bundle.tar.gz}")"
device="${MOTIF_GPU_CHECK_DEVICE:-cuda}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$bundle"
dir="$work/motif-gpu"
motif="$dir/motif"
export MOTIF_NO_PROGRESS=1 MOTIF_OFFLINE=1
results="$work/results"
mkdir -p "$results"
echo "gpu_check: device $device; $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')" >&2

precisions="${MOTIF_GPU_CHECK_PRECISIONS:-bf16 f32}"
batches="${MOTIF_GPU_CHECK_BATCHES:-32 64 128 256 512}"
limit="${MOTIF_GPU_CHECK_LIMIT:-0}"
for precision in $precisions; do
    for b in $batches; do
        echo "gpu_check: bench embed, $precision, batch $b" >&2
        "$motif" bench embed --model "$dir/model" --device "$device" --precision "$precision" --batch-size "$b" \
            --corpus "$dir/bbc.jsonl" --limit "$limit" --json > "$results/bench-$precision-$b.json" \
            || echo "{\"failed\": true, \"precision\": \"$precision\", \"batch\": $b}" > "$results/bench-$precision-$b.json"
    done
    echo "gpu_check: parity, $precision" >&2
    "$motif" embed "$dir/parity.jsonl" --model "$dir/model" --device "$device" --precision "$precision" --batch-size 128 \
        --format npy --output "$results/parity-$precision.npy"
    echo "gpu_check: STS-B test, $precision" >&2
    "$motif" eval stsb "$dir/stsb-test.tsv" --model "$dir/model" --device "$device" --precision "$precision" --json \
        > "$results/stsb-$precision.json"
done

# The summary needs only Python's standard library (no numpy on the GPU machine).
python3 - "$results" "$dir/cpu-f32.npy" "${OUT:-}" "$precisions" <<'PY'
import glob, json, math, os, struct, sys

results, cpu_path, out_dir, precisions = sys.argv[1:]

def npy(path):
    with open(path, "rb") as f:
        assert f.read(6) == b"\x93NUMPY", path
        major = f.read(2)[0]
        n = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        header = eval(f.read(n).decode("latin1"))  # numpy's own header: a dict literal
        assert header["descr"] == "<f4" and not header["fortran_order"], header
        rows, dim = header["shape"]
        data = struct.unpack(f"<{rows * dim}f", f.read(4 * rows * dim))
    return [data[i * dim:(i + 1) * dim] for i in range(rows)]

def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))

cpu = npy(cpu_path)
summary = {"bench": [], "parity": {}, "stsb": {}}
ok = True
print("| precision | batch | passages/s | tokens/s | passages | mean tokens |")
print("|---|---|---|---|---|---|")
def bench_key(path):
    _, precision, batch = os.path.basename(path)[:-5].split("-")
    return precision, int(batch)

for path in sorted(glob.glob(os.path.join(results, "bench-*.json")), key=bench_key):
    r = json.load(open(path))
    if r.get("failed"):
        print(f"| {r['precision']} | {r['batch']} | failed | | | |")
        summary["bench"].append(r)
        continue
    e = r["embed"]
    row = {"precision": e["precision"], "kernels": e.get("kernels"), "device": r["device"], "batch": e["batch_size"],
           "passages_per_second": e["passages_per_second"], "tokens_per_second": e["tokens_per_second"],
           "passages": e["passages"], "mean_tokens": e["mean_tokens"]}
    summary["bench"].append(row)
    print(f"| {bench_key(path)[0]} | {row['batch']} | {row['passages_per_second']:,.0f} | {row['tokens_per_second']:,.0f} | "
          f"{row['passages']:,} | {row['mean_tokens']:.1f} |")
print()
for precision in precisions.split():
    gpu = npy(os.path.join(results, f"parity-{precision}.npy"))
    assert len(gpu) == len(cpu), (len(gpu), len(cpu))
    cos = [cosine(a, b) for a, b in zip(gpu, cpu)]
    mean, low = sum(cos) / len(cos), min(cos)
    passed = (low >= 0.999) if precision == "f32" else (mean >= 0.999)
    ok &= passed
    summary["parity"][precision] = {"mean": mean, "min": low, "passages": len(cos), "passed": passed}
    stsb = json.load(open(os.path.join(results, f"stsb-{precision}.json")))
    spearman = stsb.get("spearman")
    summary["stsb"][precision] = stsb
    stsb_ok = spearman is not None and spearman >= 81.8
    ok &= stsb_ok
    print(f"{precision}: cosine to the CPU's f32 vectors mean {mean:.6f}, lowest {low:.6f} over {len(cos)} paragraphs "
          f"({'ok' if passed else 'FAILED'}); STS-B test Spearman x100 {spearman} ({'ok' if stsb_ok else 'FAILED'})")
if out_dir:
    with open(os.path.join(out_dir, "gpu_check.json"), "w") as f:
        json.dump(summary, f, indent=2)
sys.exit(0 if ok else 1)
PY
