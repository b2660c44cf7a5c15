#!/usr/bin/env python3
"""Embed a large corpus with Ray Data, using motif's own embedder on every
worker, and write exactly the Parquet that `motif index --from` ingests.

Set-up (once):
    python3 -m venv .venv-interchange
    .venv-interchange/bin/pip install -r scripts/requirements-interchange.txt
    cargo build --release        # or put a motif binary on PATH
Run (Ray in local mode: no cluster needed):
    .venv-interchange/bin/python scripts/ray_embed.py shards/ --out embedded/
    motif index --from embedded/ --index corpus.motif
On a Ray cluster, set RAY_ADDRESS (or start the script with `ray job submit`);
every node then needs the motif binary at the same path (--motif) and the
model in its cache (`motif model fetch`), and the inputs and --out must be
paths every node can reach (a shared file system, or s3://... URIs, which are
read and written through pyarrow's file systems).

Inputs are JSONL or Parquet shards: files, folders (searched recursively, in
name order, skipping names that start with a dot; only .jsonl and .parquet
files are read, others are listed and ignored), glob patterns, or URIs.
Every record is a document: its text from --text-field (default text) and
its name made as plain `motif index` makes it, so that the index built from
this output and the index built by `motif index SHARD...` name every
document alike:

    <the path as given>:<id>

where the path is the input exactly as written on the command line (for a
file found inside a given folder: the folder joined with the file's path
below it, e.g. `shards/part-1.jsonl`), and the id is the record's
--id-field value (a string, or a number as written), or its 1-based line
number (Parquet: row number) when the record has none. Records whose text is
blank are skipped, as `motif index` skips them. A record without a string
text field stops the run with `FILE:LINE: ...`, as `motif index` does.

The pipeline:

    shard files ──map_batches(read_shard)──> {id, text} batches of --batch-rows
        ──map_batches(MotifEmbed, one actor per worker)──> embedded passages
        ──write_parquet(--out)

Each MotifEmbed actor pipes its batch as JSON lines to

    motif embed - --stdin-format jsonl --format parquet --text-field text --id-field id

and hands on the Parquet table motif prints. The output folder holds Parquet
part files with motif's columns (document, content_hash, ordinal,
byte_start, byte_end, windowed, text, embedding as fixed_size_list<float32>)
and motif's key-value file metadata (motif.model, motif.model_fingerprint,
motif.dim, motif.split, motif.version, motif.table), which `motif index
--from` checks. The script asks motif for that metadata once before the run
(embedding one probe line, which also fetches the model once instead of once
per worker), writes it into every part file, checks every batch against it
and reads every part file's footer back at the end. Row order follows input
order (Ray's preserve_order), and part files sort in that order by name.

The shards are read by the script itself (one Ray task per shard: a
Parquet shard by row groups, a JSONL shard whole, as motif reads it, each
handed on --batch-rows records at a time) rather than by ray.data.read_json /
read_parquet: those do not expose line or row numbers, which name the
records without an id, nor do they decode exactly as motif does (a
byte-order mark, numbers as ids).

The same with Spark: mapPartitions (here mapPartitionsWithIndex) runs
motif embed once per partition and writes motif's Parquet bytes as they
are, so the metadata and the fixed-size embedding column survive (a
DataFrame written by Spark would carry neither):

    import json, os, subprocess
    from pyspark.sql import SparkSession, functions as F

    MOTIF, OUT = "/opt/motif/bin/motif", "/shared/embedded"

    def embed_partition(index, rows):
        data = b"".join(
            json.dumps({"id": r["name"], "text": r["text"]}, ensure_ascii=False).encode() + b"\\n"
            for r in rows)
        if not data:
            return
        cmd = [MOTIF, "embed", "-", "--stdin-format", "jsonl", "--format", "parquet",
               "--text-field", "text", "--id-field", "id"]
        out = subprocess.run(cmd, input=data, capture_output=True)
        if out.returncode != 0:
            raise RuntimeError(f"motif embed failed: {out.stderr.decode()}")
        path = os.path.join(OUT, f"part-{index:05d}.parquet")
        with open(path, "wb") as f:
            f.write(out.stdout)
        yield path

    spark = SparkSession.builder.getOrCreate()
    docs = (spark.read.json("shards/")
            .withColumn("name", F.concat_ws(":", F.input_file_name(), F.col("id")))
            .select("name", "text"))
    written = docs.rdd.mapPartitionsWithIndex(embed_partition).collect()
    # then: motif index --from /shared/embedded --index corpus.motif

OUT must be a folder every executor can write (or upload the bytes to object
storage instead of open()), and every executor needs the motif binary and
the model in its cache. Spark exposes no line numbers, and
input_file_name() is an absolute URI (file:///...), so these names are not
those plain `motif index shards/` gives (rewrite the prefix with
regexp_replace where they must match). Spark's mapInArrow works the same
way with Arrow batches in and out, but then Spark writes the files, and
motif's metadata and the fixed-size embedding column are lost.
"""

import argparse
import glob
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

EXTENSIONS = (".jsonl", ".parquet")
META_KEYS = ("motif.model", "motif.model_fingerprint", "motif.dim", "motif.split", "motif.version", "motif.table")
# Rust's char::is_whitespace (Unicode White_Space), which str::trim uses: what
# `motif index` calls a blank text. Python's str.strip() also strips \x1c-\x1f.
RUST_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


class UsageError(Exception):
    """A problem with the inputs, the options or the motif binary: printed as one line."""


class ShardError(Exception):
    """A bad record or an unreadable shard (message: FILE:LINE: problem)."""


class EmbedError(Exception):
    """motif embed failed on a batch (message includes motif's stderr)."""


# --- inputs ----------------------------------------------------------------


def is_uri(path):
    return "://" in path


def walk_local(folder, found, ignored):
    """Files below `folder` in walkdir order (sorted by name, depth first,
    dot entries skipped, symlinks not followed), named folder-joined as
    `motif index` names them."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name))
    except OSError as e:
        raise UsageError(f"{folder}: cannot read the folder: {e.strerror}") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = os.path.join(folder, entry.name)
        if entry.is_dir(follow_symlinks=False):
            walk_local(path, found, ignored)
        elif entry.is_file(follow_symlinks=False):
            (found if entry.name.lower().endswith(EXTENSIONS) else ignored).append(path)


def walk_uri(uri, found, ignored):
    fs, root = pafs.FileSystem.from_uri(uri)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.File:
        found.append(uri)
        return
    if info.type != pafs.FileType.Directory:
        raise UsageError(f"{uri}: no such file or folder")
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    for i in sorted(infos, key=lambda i: i.path):
        rel = os.path.relpath(i.path, root)
        if i.type != pafs.FileType.File or any(part.startswith(".") for part in rel.split("/")):
            continue
        name = uri.rstrip("/") + "/" + rel
        (found if rel.lower().endswith(EXTENSIONS) else ignored).append(name)


def list_shards(inputs):
    """[(path, format)] for every input shard, in order; and the ignored files."""
    found, ignored = [], []
    for given in inputs:
        if is_uri(given):
            walk_uri(given, found, ignored)
        elif os.path.isdir(given):
            before = len(found)
            walk_local(given, found, ignored)
            if len(found) == before:
                raise UsageError(f"{given}: no .jsonl or .parquet files in this folder")
        elif os.path.isfile(given):
            if not given.lower().endswith(EXTENSIONS):
                raise UsageError(f"{given}: not a .jsonl or .parquet file")
            found.append(given)
        elif any(c in given for c in "*?["):
            matches = sorted(p for p in glob.glob(given, recursive=True) if os.path.isfile(p))
            if not matches:
                raise UsageError(f"{given}: the pattern matches no files")
            for p in matches:
                (found if p.lower().endswith(EXTENSIONS) else ignored).append(p)
        else:
            raise UsageError(f"{given}: no such file or folder")
    seen, shards = set(), []
    for p in found:
        if p not in seen:
            seen.add(p)
            shards.append((p, "parquet" if p.lower().endswith(".parquet") else "jsonl"))
    return shards, ignored


def open_input(path):
    if is_uri(path):
        fs, p = pafs.FileSystem.from_uri(path)
        return fs.open_input_stream(p)
    return open(path, "rb")


def is_text_type(t):
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def check_parquet_shard(path, text_field, id_field):
    """Fails early, naming the file, where motif index would refuse the shard:
    no text column, or a text or id column of another type."""
    try:
        if is_uri(path):
            fs, p = pafs.FileSystem.from_uri(path)
            schema = pq.read_schema(p, filesystem=fs)
        else:
            schema = pq.read_schema(path)
    except Exception as e:  # pyarrow raises ArrowInvalid, OSError, ...
        raise UsageError(f"{path}: not a readable Parquet file: {e}") from None
    if text_field not in schema.names:
        raise UsageError(
            f'{path}: no column "{text_field}" (columns: {", ".join(schema.names)}; choose one with --text-field)'
        )
    t = schema.field(text_field).type
    if not is_text_type(t):
        raise UsageError(f'{path}: column "{text_field}" holds {t}, not text')
    if id_field in schema.names:
        t = schema.field(id_field).type
        if not (is_text_type(t) or pa.types.is_integer(t)):
            raise UsageError(f'{path}: column "{id_field}" holds {t}, not text or integers')


def id_text(value):
    """A record id as motif writes it into the name, or None (then the line number)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # JSON only: serde_json writes 1.0 as "1.0", as repr does
        return repr(value)
    return None


def jsonl_records(path, text_field, id_field):
    """(name, text) for every record of a JSONL shard, decoded and numbered as motif does."""
    with open_input(path) as f:
        head = f.read(8192)
        if b"\0" in head:
            raise ShardError(f"{path}: binary file (NUL bytes), not JSONL")
        data = head + f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for line_no, raw in enumerate(data.split(b"\n"), 1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ShardError(f"{path}:{line_no}: not UTF-8 (byte {e.start} of the line)") from None
        if not line.strip(RUST_WHITESPACE):
            continue
        try:
            value = json.loads(line)
        except ValueError as e:
            raise ShardError(f"{path}:{line_no}: not JSON: {e}") from None
        text = value.get(text_field) if isinstance(value, dict) else None
        if not isinstance(text, str):
            raise ShardError(f'{path}:{line_no}: no string field "{text_field}" (choose one with --text-field)')
        rid = id_text(value.get(id_field))
        yield f"{path}:{rid if rid is not None else line_no}", text


def parquet_records(path, text_field, id_field, batch_rows):
    if is_uri(path):
        fs, p = pafs.FileSystem.from_uri(path)
        pf = pq.ParquetFile(fs.open_input_file(p))
    else:
        pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    if text_field not in names:
        raise ShardError(f'{path}: no column "{text_field}" (choose one with --text-field)')
    columns = [text_field] + ([id_field] if id_field in names and id_field != text_field else [])
    row_no = 0
    for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
        texts = batch.column(text_field).to_pylist()
        ids = batch.column(id_field).to_pylist() if id_field in columns else [None] * len(texts)
        for text, rid in zip(texts, ids):
            row_no += 1
            if text is None:
                raise ShardError(f'{path}: row {row_no}: "{text_field}" is null')
            rid = id_text(rid)
            yield f"{path}:{rid if rid is not None else row_no}", text


def read_shard(batch, text_field, id_field, batch_rows):
    """Ray UDF: one shard path in, {id, text} batches of batch_rows out (streaming)."""
    for path, fmt in zip(batch["path"].to_pylist(), batch["format"].to_pylist()):
        if fmt == "parquet":
            records = parquet_records(path, text_field, id_field, batch_rows)
        else:
            records = jsonl_records(path, text_field, id_field)
        ids, texts = [], []
        for name, text in records:
            if not text.strip(RUST_WHITESPACE):
                continue
            ids.append(name)
            texts.append(text)
            if len(ids) == batch_rows:
                yield pa.table({"id": ids, "text": texts})
                ids, texts = [], []
        if ids:
            yield pa.table({"id": ids, "text": texts})


# --- motif -------------------------------------------------------------------


def find_motif(given):
    if given:
        path = shutil.which(given) or (given if os.path.isfile(given) else None)
        if not path:
            raise UsageError(f"motif binary not found at {given}")
        return os.path.abspath(path)
    on_path = shutil.which("motif")
    if on_path:
        return on_path
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for candidate in (os.path.join(here, "target", "release", "motif"), os.path.join("target", "release", "motif")):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise UsageError(
        "motif binary not found: pass --motif PATH, put motif on PATH, or build it (cargo build --release)"
    )


def embed_command(motif, model):
    cmd = [motif, "embed", "-", "--stdin-format", "jsonl", "--format", "parquet", "--text-field", "text"]
    cmd += ["--id-field", "id"]
    if model:
        cmd += ["--model", model]
    return cmd


def run_motif(cmd, ids, texts, threads, what=None):
    data = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in zip(ids, texts))
    env = dict(os.environ, MOTIF_NO_PROGRESS="1")
    if threads:
        env["MOTIF_THREADS"] = str(threads)
    try:
        out = subprocess.run(cmd, input=data.encode("utf-8"), capture_output=True, env=env)
    except OSError as e:
        raise EmbedError(f"cannot run {cmd[0]}: {e.strerror}") from None
    where = what or (f"a batch of {len(ids)} documents, {ids[0]} .. {ids[-1]}" if ids else "no documents")
    if out.returncode != 0:
        stderr = out.stderr.decode("utf-8", "replace").strip()
        hint = ""
        if "unexpected argument" in stderr or "invalid value" in stderr:
            hint = f"\n(is {cmd[0]} a motif with `embed --stdin-format jsonl --format parquet`?)"
        raise EmbedError(f"motif embed failed (exit {out.returncode}) on {where}:\n{stderr}{hint}")
    try:
        return read_motif_parquet(out.stdout)
    except Exception as e:
        head = out.stdout[:4]
        raise EmbedError(
            f"motif embed printed no Parquet file (starts {head!r}) on {where}: {e}; "
            f"does this motif have `embed --format parquet`?"
        ) from None


def motif_metadata(kv):
    meta = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
            for k, v in (kv or {}).items()}
    return {k: meta[k] for k in META_KEYS if k in meta}


def read_motif_parquet(data):
    """The table in motif's Parquet bytes, with motif's metadata on its schema.

    motif writes its keys into the Parquet footer's key-value metadata; when
    the file's embedded Arrow schema (ARROW:schema) does not carry them too,
    pyarrow's read_table shows none, so they are read from the footer here."""
    pf = pq.ParquetFile(pa.BufferReader(data))
    table = pf.read()
    meta = {**motif_metadata(table.schema.metadata), **motif_metadata(pf.metadata.metadata)}
    return table.replace_schema_metadata(meta)


def file_metadata(path, fs=None):
    """motif's keys in a Parquet file's footer (and its Arrow schema)."""
    meta = pq.read_metadata(path, filesystem=fs)
    return {**motif_metadata(pq.read_schema(path, filesystem=fs).metadata), **motif_metadata(meta.metadata)}, meta


class MotifEmbed:
    """Ray actor: pipes each batch through `motif embed` and returns its table."""

    def __init__(self, cmd, threads, expected):
        self.cmd, self.threads, self.expected = cmd, threads, expected

    def __call__(self, batch):
        ids, texts = batch["id"].to_pylist(), batch["text"].to_pylist()
        table = run_motif(self.cmd, ids, texts, self.threads)
        got = motif_metadata(table.schema.metadata)
        if got != self.expected:
            raise EmbedError(f"motif embed's file metadata changed during the run: {got} != {self.expected}")
        return table


# --- driver --------------------------------------------------------------------


OUR_ERRORS = ("ShardError", "EmbedError", "UsageError")


def our_error(err):
    """The message of our own error inside Ray's wrappers, or None.

    Ray re-raises a UDF's exception as a RayTaskError/UserCodeException;
    from a task the original is its cause, but from an actor the chain does
    not survive pickling and only the traceback text inside the message
    holds it, so that text is searched too."""
    seen, stack = set(), [err]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if type(e).__name__ in OUR_ERRORS:
            return without_ray_notes(str(e).splitlines())
        stack += [getattr(e, "cause", None), e.__cause__, e.__context__]
    lines = str(err).splitlines()
    starts = [i for i, l in enumerate(lines) if re.match(r"(\w+\.)*(%s): " % "|".join(OUR_ERRORS), l)]
    if not starts:
        return None
    return without_ray_notes([lines[starts[-1]].split(": ", 1)[1]] + lines[starts[-1] + 1 :])


def without_ray_notes(lines):
    """A message's lines up to what Ray appended (its retry advice, the chain)."""
    kept = lines[:1]
    for line in lines[1:]:
        if not line.strip() or line.startswith(("The above exception", "Traceback", "Failed to apply UDF", "To change retry")):
            break
        kept.append(line)
    return "\n".join(kept)


def prepare_out(out, overwrite):
    if is_uri(out):
        return
    if os.path.isfile(out):
        raise UsageError(f"--out {out} is a file; give a folder")
    if os.path.isdir(out):
        old = [n for n in os.listdir(out) if n.endswith(".parquet")]
        if old and not overwrite:
            raise UsageError(f"--out {out} already holds {len(old)} Parquet files; remove them or pass --overwrite")
        for n in old:
            os.remove(os.path.join(out, n))


def part_files(out):
    if is_uri(out):
        fs, root = pafs.FileSystem.from_uri(out)
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True))
        return fs, sorted(i.path for i in infos if i.path.endswith(".parquet"))
    return None, sorted(os.path.join(out, n) for n in os.listdir(out) if n.endswith(".parquet"))


def check_parts(out, expected):
    """Reads every part file's footer: rows, and the motif metadata (re-attached
    by rewriting a file if this Ray version dropped it)."""
    fs, parts = part_files(out)
    rows, rewritten = 0, 0
    for p in parts:
        got, meta = file_metadata(p, fs)
        rows += meta.num_rows
        if got != expected:
            table = pq.read_table(p, filesystem=fs).replace_schema_metadata(expected)
            tmp = p + ".tmp"
            pq.write_table(table, tmp, filesystem=fs)
            (fs.move(tmp, p) if fs else os.replace(tmp, p))
            rewritten += 1
    return parts, rows, rewritten


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Embed JSONL/Parquet shards with Ray Data and motif's embedder; write Parquet for "
        "`motif index --from`.",
        epilog="See the module docstring (head of this file) for the naming rule and the Spark recipe.",
    )
    ap.add_argument("inputs", nargs="+", metavar="INPUT", help="JSONL or Parquet shards: files, folders, globs, URIs")
    ap.add_argument("--out", required=True, metavar="DIR", help="folder for the Parquet part files")
    ap.add_argument("--motif", metavar="PATH", help="the motif binary (default: motif on PATH, or target/release/motif)")
    ap.add_argument("--model", metavar="NAME", help="motif's --model (default: motif's default model)")
    ap.add_argument("--text-field", default="text", help="the field (JSONL) or column (Parquet) holding the text")
    ap.add_argument("--id-field", default="id", help="the field or column naming each record (else its line number)")
    ap.add_argument("--batch-rows", type=int, default=256, metavar="N", help="documents per motif embed call")
    ap.add_argument("--workers", type=int, metavar="N", help="motif embed processes at once (default: CPUs / threads)")
    ap.add_argument("--threads", type=int, metavar="N", help="threads per motif process (default: min(4, CPUs))")
    ap.add_argument("--num-cpus", type=int, metavar="N", help="CPUs of the local Ray instance (default: all)")
    ap.add_argument("--overwrite", action="store_true", help="replace Parquet files already in --out")
    args = ap.parse_args(argv)
    for name in ("batch_rows", "workers", "threads", "num_cpus"):
        v = getattr(args, name)
        if v is not None and v < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    try:
        motif = find_motif(args.motif)
        shards, ignored = list_shards(args.inputs)
        for path, fmt in shards:
            if fmt == "parquet":
                check_parquet_shard(path, args.text_field, args.id_field)
        prepare_out(args.out, args.overwrite)
        cmd = embed_command(motif, args.model)
        # One probe line: checks the binary, fetches the model once, and
        # gives the metadata every batch (and every part file) must carry.
        probe = run_motif(cmd, ["probe"], ["probe"], None, what="a one-line probe before the run")
        expected = motif_metadata(probe.schema.metadata)
        if expected.get("motif.table") != "embedded_passages":
            raise UsageError(f"{motif} embed --format parquet wrote no embedded_passages metadata: {expected}")
    except (UsageError, EmbedError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for p in ignored:
        print(f"note: ignored {p} (not .jsonl or .parquet)", file=sys.stderr)

    import ray  # imported late: the checks above answer in well under a second

    # Ray counts CPUs, not threads: each motif worker holds --threads of
    # them, and the shard readers and Parquet writers (light beside
    # embedding) hold a quarter each. A local instance gets one CPU more than
    # the cores for those, and on a cluster the default workers leave one
    # free, so the readers are never starved by the workers that wait on them.
    if os.environ.get("RAY_ADDRESS"):
        ray.init()
        cpus = int(ray.cluster_resources().get("CPU", 1))
        spare = 1
    else:
        cpus = args.num_cpus or os.cpu_count() or 1
        ray.init(num_cpus=cpus + 1, include_dashboard=False)
        spare = 0
    threads = min(args.threads or 4, cpus)
    workers = args.workers or max(1, (cpus - spare) // threads)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = sys.stderr.isatty()
    # Ray Data logs each execution and, on a failure, the UDF's traceback;
    # the failure is reported below in one line (or re-raised in full).
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)
    print(
        f"ray_embed: {len(shards)} shards, {workers} motif workers x {threads} threads, "
        f"model {expected.get('motif.model')} ({expected.get('motif.model_fingerprint')})",
        file=sys.stderr,
    )

    files = ray.data.from_items(
        [{"path": p, "format": f} for p, f in shards], override_num_blocks=len(shards)
    )
    docs = files.map_batches(
        read_shard,
        batch_size=1,
        batch_format="pyarrow",
        fn_kwargs={"text_field": args.text_field, "id_field": args.id_field, "batch_rows": args.batch_rows},
        num_cpus=0.25,
    )
    embedded = docs.map_batches(
        MotifEmbed,
        batch_size=args.batch_rows,
        batch_format="pyarrow",
        fn_constructor_kwargs={"cmd": cmd, "threads": threads, "expected": expected},
        concurrency=workers,
        num_cpus=threads,
    )
    try:
        # schema=: the probe's schema (columns and motif metadata) for every
        # part file. Ray 2.60 keeps a block's own schema metadata, but
        # motif's keys live in the Parquet footer, which pyarrow does not put
        # on the table's schema; passing the schema writes them into every
        # part file whatever Ray's version does, and check_parts reads every
        # footer back.
        embedded.write_parquet(args.out, schema=probe.schema.with_metadata(expected), ray_remote_args={"num_cpus": 0.25})
    except Exception as e:  # Ray wraps the UDF's exception
        ours = our_error(e)
        if ours is None:
            raise
        print(f"error: {ours}", file=sys.stderr)
        return 1
    finally:
        ray.shutdown()

    parts, rows, rewritten = check_parts(args.out, expected)
    if not parts:
        print("error: no passages written: the inputs hold no documents with text", file=sys.stderr)
        return 1
    if rewritten:
        print(f"note: re-attached motif metadata to {rewritten} part files Ray wrote without it", file=sys.stderr)
    print(
        f"ray_embed: {rows} passages in {len(parts)} Parquet files under {args.out} "
        f"in {time.time() - started:.1f}s; next: motif index --from {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
