#!/usr/bin/env python3
"""Check a `motif export` folder with DuckDB, as a user of the export would
read it, and print one example query.

Set-up (once):
    python3 -m venv .venv-interchange
    .venv-interchange/bin/pip install -r scripts/requirements-interchange.txt
Run:
    motif export --index .motif --out export/                  # Parquet
    motif export --index .motif --format jsonl --out export-jsonl/
    .venv-interchange/bin/python scripts/check_export.py export/
    .venv-interchange/bin/python scripts/check_export.py export-jsonl/

Every table file that manifest.json lists is opened with DuckDB
(read_parquet, or read_json for a JSONL export, given the documented column
types) and checked:
  - its row count is the manifest's;
  - its columns have the documented types as DuckDB sees them (a timestamp
    is a TIMESTAMP WITH TIME ZONE, an embedding a FLOAT list, keywords a
    VARCHAR list), so DuckDB, pandas and Spark need no casts;
  - ids are unique; passages JOIN vectors JOIN documents gives exactly one
    row per passage; every embedding has `dim` values and unit length; each
    document's passage count is its passages' count;
  - overlaps and theme_members point at existing passages (and at those
    passages' documents), theme_members at existing themes, overlaps at
    existing echo groups;
  - the vectors file's metadata names the manifest's model fingerprint
    (Parquet).
It prints a summary and one example query (the top theme of each
document), and exits 1 listing every failed check, or 2 when the folder or its
manifest cannot be read.

The example query, for the README (run it in the duckdb shell inside the
export folder):

    SELECT d.name, t.label, count(*) AS sentences
    FROM 'theme_members.parquet' m
    JOIN 'themes.parquet' t USING (theme_id)
    JOIN 'documents.parquet' d USING (document_id)
    GROUP BY d.name, t.label
    QUALIFY row_number() OVER (PARTITION BY d.name ORDER BY count(*) DESC, t.label) = 1
    ORDER BY d.name;
"""

import argparse
import json
import os
import sys

import duckdb

# The documented schema of each table, as DuckDB types. "EMBEDDING" is a
# FLOAT list: FLOAT[] from Parquet (which has no fixed-size list) or FLOAT[dim].
SCHEMA = {
    "documents": {
        "document_id": "BIGINT",
        "name": "VARCHAR",
        "path": "VARCHAR",
        "source": "VARCHAR",
        "date": "VARCHAR",
        "title": "VARCHAR",
        "url": "VARCHAR",
        "content_hash": "VARCHAR",
        "bytes": "BIGINT",
        "passages": "BIGINT",
        "indexed_at": "TIMESTAMP WITH TIME ZONE",
        "metadata": "VARCHAR",
    },
    "passages": {
        "passage_id": "BIGINT",
        "document_id": "BIGINT",
        "ordinal": "INTEGER",
        "byte_start": "BIGINT",
        "byte_end": "BIGINT",
        "windowed": "BOOLEAN",
        "text": "VARCHAR",
    },
    "vectors": {"passage_id": "BIGINT", "embedding": "EMBEDDING"},
    "overlaps": {
        "pair_id": "BIGINT",
        "echo_group": "BIGINT",
        "kind": "VARCHAR",
        "score": "FLOAT",
        **{f"{side}_{c}": "BIGINT" for side in "ab" for c in ("passage_id", "document_id", "byte_start", "byte_end")},
    },
    "echo_groups": {"echo_group": "BIGINT", "claim": "VARCHAR", "passages": "BIGINT"},
    "themes": {"theme_id": "BIGINT", "label": "VARCHAR", "keywords": "VARCHAR[]", "size": "BIGINT", "documents": "BIGINT"},
    "theme_members": {
        "theme_id": "BIGINT",
        "rank": "INTEGER",
        "passage_id": "BIGINT",
        "document_id": "BIGINT",
        "byte_start": "BIGINT",
        "byte_end": "BIGINT",
        "text": "VARCHAR",
    },
}
REQUIRED = ("documents", "passages", "vectors")
EXAMPLE = """
SELECT d.name, t.label, count(*) AS sentences
FROM theme_members m JOIN themes t USING (theme_id) JOIN documents d USING (document_id)
GROUP BY d.name, t.label
QUALIFY row_number() OVER (PARTITION BY d.name ORDER BY count(*) DESC, t.label) = 1
ORDER BY d.name
"""
EXAMPLE_NO_THEMES = """
SELECT d.name, count(*) AS passages, round(avg(p.byte_end - p.byte_start)) AS mean_bytes
FROM passages p JOIN documents d USING (document_id)
GROUP BY d.name ORDER BY d.name
"""


class Unreadable(Exception):
    pass


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def load_manifest(folder):
    path = os.path.join(folder, "manifest.json")
    if not os.path.isdir(folder):
        raise Unreadable(f"{folder}: no such folder")
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except OSError as e:
        raise Unreadable(f"{path}: cannot read it: {e.strerror}") from None
    except ValueError as e:
        raise Unreadable(f"{path}: not JSON: {e}") from None
    if not isinstance(m, dict) or m.get("format") != "motif-export":
        raise Unreadable(f'{path}: not a motif export manifest (no "format": "motif-export")')
    if m.get("version") != 1:
        raise Unreadable(f"{path}: export version {m.get('version')!r}; this script reads version 1")
    if not isinstance(m.get("dim"), int) or m["dim"] < 1:
        raise Unreadable(f"{path}: dim is {m.get('dim')!r}, not a positive integer")
    tables = m.get("tables")
    if not isinstance(tables, dict):
        raise Unreadable(f'{path}: no "tables" object')
    for name, t in tables.items():
        if not isinstance(t, dict) or not isinstance(t.get("file"), str) or not isinstance(t.get("rows"), int):
            raise Unreadable(f'{path}: table "{name}" needs a "file" and integer "rows"')
    return m


def json_type(duck_type, dim):
    return {"EMBEDDING": f"FLOAT[{dim}]"}.get(duck_type, duck_type)


def type_ok(want, got, dim):
    if want == "EMBEDDING":
        return got in ("FLOAT[]", f"FLOAT[{dim}]")
    return want == got


class Checker:
    def __init__(self, folder, manifest):
        self.folder, self.m, self.dim = folder, manifest, manifest["dim"]
        self.con = duckdb.connect()
        self.failures, self.views, self.counts = [], {}, {}

    def fail(self, msg):
        self.failures.append(msg)

    def scalar(self, sql):
        return self.con.execute(sql).fetchall()[0][0]

    def open_tables(self):
        for name in REQUIRED:
            if name not in self.m["tables"]:
                self.fail(f'manifest.json lists no "{name}" table')
        for name, t in sorted(self.m["tables"].items()):
            path = os.path.join(self.folder, t["file"])
            if not os.path.isfile(path):
                self.fail(f"{path}: listed in manifest.json but missing")
                continue
            jsonl = t["file"].endswith(".jsonl")
            schema = SCHEMA.get(name)
            if jsonl and schema:
                cols = "{" + ", ".join(f"{sql_str(c)}: {sql_str(json_type(ty, self.dim))}" for c, ty in schema.items()) + "}"
                source = f"read_json({sql_str(path)}, format = 'newline_delimited', columns = {cols})"
            elif jsonl:
                source = f"read_json_auto({sql_str(path)}, format = 'newline_delimited')"
            else:
                source = f"read_parquet({sql_str(path)})"
            try:
                self.con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM {source}')
                rows = self.scalar(f'SELECT count(*) FROM "{name}"')
            except duckdb.Error as e:
                self.fail(f"{path}: DuckDB cannot read it: {str(e).splitlines()[0]}")
                continue
            self.views[name], self.counts[name] = path, rows
            if rows != t["rows"]:
                self.fail(f"{path}: {rows} rows, manifest.json says {t['rows']}")
            if schema:
                got = {r[0]: r[1] for r in self.con.execute(f'DESCRIBE "{name}"').fetchall()}
                for col, want in schema.items():
                    if col not in got:
                        self.fail(f"{path}: no column {col}")
                    elif not type_ok(want, got[col], self.dim):
                        shown = "a FLOAT list" if want == "EMBEDDING" else want
                        self.fail(f"{path}: column {col} is {got[col]} in DuckDB, not {shown}")

    def has(self, *names):
        return all(n in self.views for n in names)

    def zero(self, sql, what):
        """Fails with `what` when the query (a count of bad rows) is not zero."""
        try:
            n = self.scalar(sql)
        except duckdb.Error as e:
            self.fail(f"{what}: the check could not run: {str(e).splitlines()[0]}")
            return
        if n:
            self.fail(f"{what}: {n} rows")

    def unique(self, table, col):
        if self.has(table):
            self.zero(f'SELECT count(*) - count(DISTINCT {col}) FROM "{table}"', f"{table}.{col} repeated")

    def check_links(self):
        # "overlaps" is quoted: DuckDB reads OVERLAPS as an operator.
        for table, col in [("documents", "document_id"), ("passages", "passage_id"), ("vectors", "passage_id")]:
            self.unique(table, col)
        for table, col in [("themes", "theme_id"), ("overlaps", "pair_id"), ("echo_groups", "echo_group")]:
            self.unique(table, col)
        if self.has("passages", "vectors", "documents"):
            joined = self.scalar(
                "SELECT count(*) FROM passages p JOIN vectors v USING (passage_id) JOIN documents d USING (document_id)"
            )
            if joined != self.counts["passages"]:
                self.fail(
                    f"passages JOIN vectors JOIN documents: {joined} rows for {self.counts['passages']} passages"
                )
            self.zero(
                "SELECT count(*) FROM documents d LEFT JOIN "
                "(SELECT document_id, count(*) AS n FROM passages GROUP BY document_id) p USING (document_id) "
                "WHERE coalesce(p.n, 0) != d.passages",
                "documents whose passages column is not their passage count",
            )
            self.zero(
                "SELECT count(*) FROM passages p JOIN documents d USING (document_id) "
                "WHERE p.byte_start < 0 OR p.byte_end <= p.byte_start OR p.byte_end > d.bytes",
                "passages whose byte span is not inside their document",
            )
        if self.has("vectors"):
            self.zero(
                f"SELECT count(*) FROM vectors WHERE embedding IS NULL OR len(embedding::FLOAT[]) != {self.dim}",
                f"embeddings without {self.dim} values",
            )
            self.zero(
                "SELECT count(*) FROM vectors WHERE len(embedding::FLOAT[]) = "
                f"{self.dim} AND abs(list_dot_product(embedding::FLOAT[], embedding::FLOAT[]) - 1) > 1e-3",
                "embeddings not of unit length",
            )
        if self.has("overlaps", "passages"):
            for side in "ab":
                self.zero(
                    f"SELECT count(*) FROM \"overlaps\" o LEFT JOIN passages p ON p.passage_id = o.{side}_passage_id "
                    f"WHERE p.passage_id IS NULL OR p.document_id != o.{side}_document_id",
                    f"overlaps whose {side}_passage_id is no passage (of {side}_document_id)",
                )
        if self.has("overlaps", "echo_groups"):
            self.zero(
                "SELECT count(*) FROM \"overlaps\" o LEFT JOIN echo_groups g USING (echo_group) "
                "WHERE o.echo_group IS NOT NULL AND g.claim IS NULL",
                "overlaps in an echo group that echo_groups lacks",
            )
        if self.has("theme_members", "passages"):
            self.zero(
                "SELECT count(*) FROM theme_members m LEFT JOIN passages p USING (passage_id) "
                "WHERE p.passage_id IS NULL OR p.document_id != m.document_id",
                "theme_members whose passage_id is no passage (of document_id)",
            )
        if self.has("theme_members", "themes"):
            self.zero(
                "SELECT count(*) FROM theme_members m LEFT JOIN themes t USING (theme_id) WHERE t.label IS NULL",
                "theme_members of a theme that themes lacks",
            )

    def check_provenance(self):
        path = self.views.get("vectors")
        if not path or not path.endswith(".parquet"):
            return
        kv = dict(
            self.con.execute(
                f"SELECT decode(key), decode(value) FROM parquet_kv_metadata({sql_str(path)})"
            ).fetchall()
        )
        for key, want in [("motif.model_fingerprint", self.m.get("model_fingerprint")), ("motif.dim", str(self.dim))]:
            if kv.get(key) != want:
                self.fail(f"{path}: file metadata {key} is {kv.get(key)!r}, manifest.json says {want!r}")

    def example(self):
        sql = EXAMPLE if self.has("themes", "theme_members", "documents") else EXAMPLE_NO_THEMES
        rel = self.con.sql(sql)
        return sql.strip(), rel.columns, rel.fetchall()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check a motif export folder with DuckDB.")
    ap.add_argument("export", metavar="EXPORTDIR")
    args = ap.parse_args(argv)
    try:
        manifest = load_manifest(args.export)
    except Unreadable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    c = Checker(args.export, manifest)
    c.open_tables()
    c.check_links()
    c.check_provenance()
    if c.failures:
        for f in c.failures:
            print(f"error: {f}", file=sys.stderr)
        print(f"check_export: {args.export}: {len(c.failures)} checks failed", file=sys.stderr)
        return 1
    print(
        f"check_export: {args.export}: OK (DuckDB {duckdb.__version__}; model {manifest.get('model')}, dim {c.dim})"
    )
    for name in sorted(c.counts):
        print(f"  {name:<14} {c.counts[name]:>9} rows  {os.path.basename(c.views[name])}")
    print(f"  passages JOIN vectors JOIN documents: {c.counts['passages']} rows, one per passage")
    sql, cols, rows = c.example()
    print("\nexample query:\n  " + sql.replace("\n", "\n  "))
    widths = [max([len(str(col))] + [len(str(r[i])) for r in rows]) for i, col in enumerate(cols)]
    widths = [min(w, 100) for w in widths]
    print("  " + "  ".join(str(col).ljust(w) for col, w in zip(cols, widths)))
    for r in rows[:20]:
        print("  " + "  ".join(str(v)[:100].ljust(w) for v, w in zip(r, widths)))
    if len(rows) > 20:
        print(f"  ... {len(rows) - 20} more rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
