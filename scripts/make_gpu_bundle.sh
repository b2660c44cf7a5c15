#!/usr/bin/env bash
# Builds the bundle scripts/gpu_check.sh runs on a GPU machine that has
# CUDA but no network and no crate registry: everything the check needs
# beside the repository, in one tar.gz that must stay under 64 MiB.
#
#   bash scripts/make_gpu_bundle.sh [OUT.tar.gz]      (default: gpu-bundle.tar.gz)
#
# Needs, on the machine that builds it: the CUDA toolkit (nvcc; 12.x for
# Hopper's own kernels, 11.8 is enough for the compute-capability 8.0 PTX
# built here, which an H100/H200 runs), python3 with numpy, ../shared/data
# (BBC News and STS-B), and the default model (`motif model fetch`).
# MOTIF_BUNDLE_CPU_ONLY=1 builds the same bundle without --features cuda,
# to try the whole check on a CPU (MOTIF_GPU_CHECK_DEVICE=cpu).
#
# Contents (unpacked into one folder):
#   motif            stripped release binary (--features cuda, CUDA_COMPUTE_CAP=80)
#   model/           the default model with its weights in f16 (half the size;
#                    the GPU computes in bf16 or f32 either way)
#   bbc.jsonl        BBC News (the passages to time)
#   parity.jsonl     the first 2,000 BBC paragraphs, and
#   cpu-f32.npy      their vectors from this machine's CPU, f32, same f16 weights
#   stsb-test.tsv    STS-B test
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-gpu-bundle.tar.gz}")"
data="${MOTIF_DATA:-../shared/data}"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="$work/motif-gpu"
mkdir -p "$dir"

if [ "${MOTIF_BUNDLE_CPU_ONLY:-0}" = 1 ]; then
    cargo build --release --locked
else
    command -v nvcc >/dev/null || { echo "error: nvcc not found: install the CUDA toolkit (or MOTIF_BUNDLE_CPU_ONLY=1 for a CPU trial)" >&2; exit 1; }
    CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-80}" cargo build --release --locked --features cuda
fi
strip -o "$dir/motif" target/release/motif

# The default model's folder with its safetensors rewritten in f16.
model_dir="$(./target/release/motif model path)"
[ -f "$model_dir/model.safetensors" ] || ./target/release/motif model fetch
mkdir -p "$dir/model"
(cd "$model_dir" && find . -type f ! -name model.safetensors ! -name motif-verified.json ! -name '*.onnx' ! -path './onnx/*' ! -path './openvino/*' -exec cp --parents {} "$dir/model/" \;)
"$python" - "$model_dir/model.safetensors" "$dir/model/model.safetensors" <<'PY'
import json, struct, sys
import numpy as np
src, dst = sys.argv[1:]
with open(src, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    body = f.read()
meta = header.pop("__metadata__", None)
out_header, chunks, offset = {}, [], 0
for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
    a, b = t["data_offsets"]
    raw = body[a:b]
    if t["dtype"] == "F32":
        raw = np.frombuffer(raw, dtype="<f4").astype("<f2").tobytes()
        t = dict(t, dtype="F16")
    out_header[name] = dict(t, data_offsets=[offset, offset + len(raw)])
    chunks.append(raw)
    offset += len(raw)
if meta is not None:
    out_header["__metadata__"] = meta
text = json.dumps(out_header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    for c in chunks:
        f.write(c)
PY

cp "$data/bbc/bbc.jsonl" "$dir/bbc.jsonl"
cp "$data/stsb/test.tsv" "$dir/stsb-test.tsv"
"$python" - "$data/bbc/bbc.jsonl" "$dir/parity.jsonl" <<'PY'
import json, sys
src, dst = sys.argv[1:]
out = []
for line in open(src, encoding="utf-8"):
    for para in json.loads(line)["text"].split("\n"):
        if para.strip() and len(out) < 2000:
            out.append(para.strip())
with open(dst, "w", encoding="utf-8") as f:
    for i, p in enumerate(out):
        f.write(json.dumps({"id": f"p{i}", "text": p}) + "\n")
PY
MOTIF_NO_PROGRESS=1 "$dir/motif" embed "$dir/parity.jsonl" --model "$dir/model" --device cpu --format npy --output "$dir/cpu-f32.npy"

tar -C "$work" -czf "$out" motif-gpu
size=$(stat -c %s "$out")
echo "$out: $((size / 1024 / 1024)) MiB"
if [ "$size" -gt $((64 * 1024 * 1024)) ]; then
    echo "error: the bundle is over 64 MiB" >&2
    exit 1
fi
