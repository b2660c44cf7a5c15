//! Nearest-neighbour search over the stored vectors: exact search, and an
//! HNSW graph that motif builds with hnsw_rs, then owns as plain arrays.
//!
//! Why hnsw_rs only builds the graph: its reload (hnswio) only worked with
//! max_layer 16, the reloaded graph borrows its loader, its `DistDot`
//! asserts on rounding and `DistCosine` computes in f64. So after insertion
//! the graph is flattened into neighbour lists indexed by row; motif saves
//! them in its own file format (a header tying the file to one generation
//! of the store, and a checksum), searches them itself with one fixed order
//! for ties, and can add edges to repair points that a search for their own
//! vector cannot reach (hnsw_rs issue #32).
//!
//! Points are rows `0..n` of a row-major matrix of unit-length vectors; the
//! score is the dot product (the cosine) and results are ordered by score,
//! higher first, then by row, so that results never depend on how ties fell.
//! The graph never holds vectors: they stay in the store.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::Write;
use std::path::Path;

use hnsw_rs::prelude::{Distance, Hnsw};
use ndarray::ArrayView2;
use serde::Serialize;

use super::exact::exact_search;
use super::{hits, Cand, Hit};
use crate::matrix::{dot, row};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum AnnError {
    #[error("{path}: cannot read or write the HNSW graph: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(
        "{path}: corrupted HNSW graph file ({why}); it is derived data: delete it, or run `motif index --rebuild-graph`, to rebuild it from the store"
    )]
    Corrupt { path: String, why: String },
    #[error("{path}: HNSW graph format {found} is newer than this motif reads ({supported}); upgrade motif, or delete the file to rebuild it")]
    FutureFormat { path: String, found: u32, supported: u32 },
    #[error("bad HNSW parameters: {0}")]
    Params(String),
}

/// Graph parameters. `m` and `ef_construction` shape the graph;
/// `ef_search` is the default beam width of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Params {
    /// Neighbours per point on the upper layers (twice that on layer 0).
    pub m: usize,
    /// Beam width while inserting.
    pub ef_construction: usize,
    /// Beam width while searching (raised to k when k is larger).
    pub ef_search: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { m: 16, ef_construction: 200, ef_search: 64 }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), AnnError> {
        // hnsw_rs exits the process beyond 256 connections; catch it here.
        if !(2..=128).contains(&self.m) {
            return Err(AnnError::Params(format!("M must be between 2 and 128, not {}", self.m)));
        }
        if self.ef_construction < 1 || self.ef_search < 1 {
            return Err(AnnError::Params("ef_construction and ef_search must be at least 1".into()));
        }
        Ok(())
    }
}

/// `1 - dot` for unit vectors, clamped at 0: hnsw_rs's `DistDot` asserts
/// that it is non-negative, which rounding breaks on a self-match.
#[derive(Clone, Copy, Default)]
struct UnitDot;

impl Distance<f32> for UnitDot {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

/// What building a graph did, for summaries and `motif info`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct BuildReport {
    pub points: usize,
    pub insert_seconds: f64,
    pub check_seconds: f64,
    /// Points a search for their own vector did not find, before repair.
    pub unreachable: usize,
    /// Points still not found after repair (0 unless something is badly wrong).
    pub unrepaired: usize,
}

/// An HNSW graph over rows `0..n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub m: usize,
    pub ef_construction: usize,
    /// The highest layer of each point.
    levels: Vec<u8>,
    /// Layer-0 neighbours of each point.
    layer0: Vec<Vec<u32>>,
    /// Neighbours on layers 1..=level, for the few points above layer 0.
    upper: HashMap<u32, Vec<Vec<u32>>>,
    /// Where every search starts: a point on the top layer.
    entry: u32,
    /// Points repaired after the build.
    pub repaired: usize,
}

/// hnsw_rs's largest layer count; also the layer count it draws levels from.
const MAX_LAYERS: usize = 16;

impl Graph {
    /// Builds a graph by inserting every row, in row order, then checks that
    /// every point finds itself and repairs those that do not.
    ///
    /// Serial insertion (`parallel: false`) is deterministic: hnsw_rs draws
    /// levels from a fixed seed, so the same rows give the same graph. The
    /// parallel insert is faster on many cores but its graph depends on
    /// thread timing.
    pub fn build(
        rows: ArrayView2<f32>,
        params: Params,
        parallel: bool,
        progress: &mut dyn FnMut(usize),
    ) -> (Graph, BuildReport) {
        let n = rows.nrows();
        let start = std::time::Instant::now();
        let hnsw: Hnsw<f32, UnitDot> = Hnsw::new(params.m, n.max(1), MAX_LAYERS, params.ef_construction, UnitDot);
        const CHUNK: usize = 1024;
        for first in (0..n).step_by(CHUNK) {
            let last = (first + CHUNK).min(n);
            if parallel {
                let batch: Vec<(&[f32], usize)> = (first..last).map(|i| (row(&rows, i), i)).collect();
                hnsw.parallel_insert_slice(&batch);
            } else {
                for i in first..last {
                    hnsw.insert_slice((row(&rows, i), i));
                }
            }
            progress(last - first);
        }
        let mut graph = Graph::flatten(&hnsw, n, params);
        drop(hnsw);
        let insert_seconds = start.elapsed().as_secs_f64();

        let start = std::time::Instant::now();
        let (unreachable, unrepaired) = graph.check_and_repair(rows, params.ef_search);
        let report = BuildReport {
            points: n,
            insert_seconds,
            check_seconds: start.elapsed().as_secs_f64(),
            unreachable,
            unrepaired,
        };
        (graph, report)
    }

    fn flatten(hnsw: &Hnsw<f32, UnitDot>, n: usize, params: Params) -> Graph {
        let mut graph = Graph {
            m: params.m,
            ef_construction: params.ef_construction,
            levels: vec![0; n],
            layer0: vec![Vec::new(); n],
            upper: HashMap::new(),
            entry: 0,
            repaired: 0,
        };
        if n == 0 {
            return graph;
        }
        let indexation = hnsw.get_point_indexation();
        let top = indexation.get_max_level_observed();
        let mut layers_of = Vec::with_capacity(n);
        for point in indexation {
            let id = point.get_origin_id() as u32;
            let level = point.get_point_id().0;
            graph.levels[id as usize] = level;
            let mut layers = point.get_neighborhood_id();
            layers.truncate(level as usize + 1);
            layers_of.push((id, layers));
        }
        for (id, layers) in layers_of {
            // A search on layer l may only step to points that have lists on
            // layer l; hnsw_rs's lists can name lower points, so drop those.
            let mut lists = layers.into_iter().enumerate().map(|(l, list)| {
                list.into_iter()
                    .map(|nb| nb.d_id as u32)
                    .filter(|&j| j != id && graph.levels[j as usize] as usize >= l)
                    .collect::<Vec<u32>>()
            });
            graph.layer0[id as usize] = lists.next().unwrap_or_default();
            if graph.levels[id as usize] > 0 {
                graph.upper.insert(id, lists.collect());
            }
        }
        // hnsw_rs starts its searches at the first point that reached the
        // top layer, which is the first of that layer.
        if let Some(p) = indexation.get_layer_iterator(top as usize).next() {
            graph.entry = p.get_origin_id() as u32;
        }
        graph
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Layers above layer 0 (the entry point's level).
    pub fn top_level(&self) -> usize {
        self.levels.get(self.entry as usize).copied().unwrap_or(0) as usize
    }

    /// The k rows most similar to `query`, searching with beam width `ef`
    /// (raised to k). Deterministic: the same graph, rows and query always
    /// give the same hits in the same order.
    pub fn search(&self, rows: ArrayView2<f32>, query: &[f32], k: usize, ef: usize) -> Vec<Hit> {
        if self.is_empty() || k == 0 {
            return Vec::new();
        }
        let dist = |id: u32| 1.0 - dot(query, row(&rows, id as usize));
        let mut ep = Cand { dist: dist(self.entry), id: self.entry };
        // Greedy descent through the upper layers.
        for layer in (1..=self.top_level()).rev() {
            loop {
                let mut moved = false;
                let lists = &self.upper[&ep.id];
                for &nb in &lists[layer - 1] {
                    let c = Cand { dist: dist(nb), id: nb };
                    if c < ep {
                        ep = c;
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        // Beam search on layer 0.
        let ef = ef.max(k);
        let mut visited = vec![0u64; self.len().div_ceil(64)];
        let mut seen = |id: u32| {
            let (w, b) = (id as usize / 64, id % 64);
            let was = visited[w] >> b & 1 == 1;
            visited[w] |= 1 << b;
            was
        };
        seen(ep.id);
        let mut candidates = BinaryHeap::from([Reverse(ep)]);
        let mut best = BinaryHeap::from([ep]);
        while let Some(Reverse(c)) = candidates.pop() {
            if best.len() >= ef && c > *best.peek().expect("not empty") {
                break;
            }
            for &nb in &self.layer0[c.id as usize] {
                if seen(nb) {
                    continue;
                }
                let cand = Cand { dist: dist(nb), id: nb };
                if best.len() < ef || cand < *best.peek().expect("not empty") {
                    candidates.push(Reverse(cand));
                    best.push(cand);
                    if best.len() > ef {
                        best.pop();
                    }
                }
            }
        }
        hits(best.into_vec(), k)
    }

    /// Whether row `i` is found by a search for its own vector at the rank an
    /// exact search gives it: rank 1, unless identical or nearly identical
    /// vectors tie with or outrank it (then it must come right after them).
    fn finds_itself(&self, rows: ArrayView2<f32>, i: u32, ef: usize) -> (bool, Option<Hit>) {
        let q = row(&rows, i as usize);
        let first = self.search(rows, q, 1, ef);
        if first.first().is_some_and(|h| h.id == i) {
            return (true, None);
        }
        // Rare: a duplicate, or an unreachable point. The exact rank decides.
        let me = Cand { dist: 1.0 - dot(q, q), id: i };
        let rank = (0..rows.nrows() as u32)
            .filter(|&j| j != i && Cand { dist: 1.0 - dot(q, row(&rows, j as usize)), id: j } < me)
            .count();
        let got = self.search(rows, q, rank + 1, ef.max(rank + 1));
        (got.iter().any(|h| h.id == i), first.first().copied())
    }

    /// ArrayView2<f32> that a search for their own vector does not find.
    pub fn unreachable(&self, rows: ArrayView2<f32>, ef: usize) -> Vec<u32> {
        let n = self.len();
        let threads = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1).min(n.max(1));
        let per = n.div_ceil(threads.max(1)).max(1);
        let mut out: Vec<u32> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .step_by(per)
                .map(|first| {
                    s.spawn(move || {
                        (first..(first + per).min(n))
                            .map(|i| i as u32)
                            .filter(|&i| !self.finds_itself(rows, i, ef).0)
                            .collect::<Vec<u32>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("search thread panicked")).collect()
        });
        out.sort_unstable();
        out
    }

    /// Finds the points a search for their own vector misses and links them
    /// back in: each gets edges to and from its exact nearest neighbours on
    /// layer 0, and the point where its failed search ended gets an edge to
    /// it (which alone guarantees that search now reaches it). Returns the
    /// number of unreachable points found and how many remain after repair.
    pub fn check_and_repair(&mut self, rows: ArrayView2<f32>, ef: usize) -> (usize, usize) {
        let broken = self.unreachable(rows, ef);
        let mut remaining = broken.clone();
        for _round in 0..3 {
            if remaining.is_empty() {
                break;
            }
            for &i in &remaining {
                self.link(rows, i, ef);
            }
            remaining.retain(|&i| !self.finds_itself(rows, i, ef).0);
        }
        self.repaired += broken.len() - remaining.len();
        (broken.len(), remaining.len())
    }

    fn link(&mut self, rows: ArrayView2<f32>, i: u32, ef: usize) {
        let q = row(&rows, i as usize);
        let near = exact_search(rows, q, 2 * self.m, &|j| j == i);
        let add = |from: u32, to: u32, layer0: &mut Vec<Vec<u32>>| {
            let list = &mut layer0[from as usize];
            if from != to && !list.contains(&to) {
                list.push(to);
            }
        };
        for h in near.iter().take(self.m) {
            add(h.id, i, &mut self.layer0);
            add(i, h.id, &mut self.layer0);
        }
        if let (false, Some(end)) = self.finds_itself(rows, i, ef) {
            add(end.id, i, &mut self.layer0);
        }
    }

    /// Cuts every edge into row `i` (for tests of the repair).
    #[cfg(test)]
    fn disconnect(&mut self, i: u32) {
        for list in &mut self.layer0 {
            list.retain(|&j| j != i);
        }
        for lists in self.upper.values_mut() {
            for list in lists {
                list.retain(|&j| j != i);
            }
        }
        if self.entry == i {
            if let Some((&other, _)) =
                self.upper.iter().filter(|(&p, _)| p != i).max_by_key(|(&p, _)| (self.levels[p as usize], Reverse(p)))
            {
                self.entry = other;
            }
        }
    }

    /// The graph as bytes: header, neighbour lists, SHA-256 of all before it.
    /// `stamp` names what the graph was built from (the store's generation),
    /// so a reader can tell a stale graph.
    pub fn to_bytes(&self, stamp: &str) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.len() * (8 + 4 * 2 * self.m));
        b.extend_from_slice(MAGIC);
        put_u32(&mut b, GRAPH_FORMAT);
        put_u32(&mut b, stamp.len() as u32);
        b.extend_from_slice(stamp.as_bytes());
        put_u64(&mut b, self.len() as u64);
        put_u32(&mut b, self.m as u32);
        put_u32(&mut b, self.ef_construction as u32);
        put_u32(&mut b, self.entry);
        put_u64(&mut b, self.repaired as u64);
        for i in 0..self.len() {
            let level = self.levels[i];
            b.push(level);
            let mut put_list = |list: &[u32]| {
                put_u32(&mut b, list.len() as u32);
                for &j in list {
                    put_u32(&mut b, j);
                }
            };
            put_list(&self.layer0[i]);
            if level > 0 {
                for list in &self.upper[&(i as u32)] {
                    put_list(list);
                }
            }
        }
        let sum = Sha256::digest(&b);
        b.extend_from_slice(&sum);
        b
    }

    /// Reads what `to_bytes` wrote; returns the graph and its stamp.
    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<(Graph, String), AnnError> {
        let corrupt = |why: &str| AnnError::Corrupt { path: path.to_string(), why: why.to_string() };
        if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(corrupt("not a motif graph file"));
        }
        let format = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if format > GRAPH_FORMAT {
            return Err(AnnError::FutureFormat { path: path.to_string(), found: format, supported: GRAPH_FORMAT });
        }
        if bytes.len() < 12 + 32 {
            return Err(corrupt("truncated"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != sum {
            return Err(corrupt("checksum mismatch: truncated or overwritten"));
        }
        let (graph, stamp) = parse_body(body).map_err(corrupt)?;
        // Every point a search can step to on layer l must have lists there.
        if !graph.is_empty() {
            let top = graph.levels[graph.entry as usize];
            for (&p, lists) in &graph.upper {
                for (l, list) in lists.iter().enumerate() {
                    if list.iter().any(|&j| (graph.levels[j as usize] as usize) < l + 1) {
                        return Err(corrupt("inconsistent layers"));
                    }
                }
                if graph.levels[p as usize] > top {
                    return Err(corrupt("entry point is not on the top layer"));
                }
            }
        }
        Ok((graph, stamp))
    }

    /// Writes the graph to `path` atomically: a temporary file beside it,
    /// synced, then renamed over it, so a reader sees the old file or the
    /// new one, never half of one.
    pub fn save(&self, path: &Path, stamp: &str) -> Result<(), AnnError> {
        let io = |source| AnnError::Io { path: path.display().to_string(), source };
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&self.to_bytes(stamp))?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent() {
                // The rename is durable once the directory is synced.
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    /// Reads a saved graph; `Ok(None)` when there is no file.
    pub fn load(path: &Path) -> Result<Option<(Graph, String)>, AnnError> {
        match std::fs::read(path) {
            Ok(bytes) => Graph::from_bytes(&bytes, &path.display().to_string()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(AnnError::Io { path: path.display().to_string(), source }),
        }
    }
}

const MAGIC: &[u8; 8] = b"MOTIFHNS";
const GRAPH_FORMAT: u32 = 1;

fn put_u32(b: &mut Vec<u8>, x: u32) {
    b.extend_from_slice(&x.to_le_bytes());
}

fn put_u64(b: &mut Vec<u8>, x: u64) {
    b.extend_from_slice(&x.to_le_bytes());
}

struct ReadError;

impl From<ReadError> for &'static str {
    fn from(_: ReadError) -> &'static str {
        "truncated or malformed"
    }
}

/// Parses the part of a graph file after magic and format, before the checksum.
fn parse_body(body: &[u8]) -> Result<(Graph, String), &'static str> {
    let mut r = Reader { b: body, at: 12 };
    let stamp_len = r.u32()? as usize;
    let stamp = String::from_utf8(r.take(stamp_len)?.to_vec()).map_err(|_| "bad stamp")?;
    let n = r.u64()? as usize;
    let m = r.u32()? as usize;
    let ef_construction = r.u32()? as usize;
    let entry = r.u32()?;
    let repaired = r.u64()? as usize;
    if n > body.len() || (n > 0 && entry as usize >= n) {
        return Err("bad header");
    }
    let mut graph = Graph {
        m,
        ef_construction,
        levels: Vec::with_capacity(n),
        layer0: Vec::with_capacity(n),
        upper: HashMap::new(),
        entry,
        repaired,
    };
    let list = |r: &mut Reader| -> Result<Vec<u32>, &'static str> {
        let len = r.u32()? as usize;
        let raw = r.take(len.checked_mul(4).ok_or(ReadError)?)?;
        let ids: Vec<u32> = raw.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
        if ids.iter().any(|&j| j as usize >= n) {
            return Err("neighbour out of range");
        }
        Ok(ids)
    };
    for i in 0..n {
        let level = r.take(1)?[0];
        if level as usize >= MAX_LAYERS {
            return Err("bad layer");
        }
        graph.levels.push(level);
        graph.layer0.push(list(&mut r)?);
        if level > 0 {
            let lists = (0..level).map(|_| list(&mut r)).collect::<Result<Vec<_>, _>>()?;
            graph.upper.insert(i as u32, lists);
        }
    }
    if r.at != body.len() {
        return Err("trailing bytes");
    }
    Ok((graph, stamp))
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len()).ok_or(ReadError)?;
        let out = &self.b[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u32(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, ReadError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::clustered_vectors;

    fn recall(graph: &Graph, rows: ArrayView2<f32>, queries: &[u32], k: usize, ef: usize) -> f64 {
        let mut found = 0;
        for &q in queries {
            let exact = exact_search(rows, row(&rows, q as usize), k, &|_| false);
            let approx = graph.search(rows, row(&rows, q as usize), k, ef);
            found += approx.iter().filter(|h| exact.iter().any(|e| e.id == h.id)).count();
        }
        found as f64 / (queries.len() * k) as f64
    }

    #[test]
    fn hnsw_agrees_with_exact_search_and_is_deterministic() {
        let data = clustered_vectors(3000, 48, 30, 0.6, 7);
        let rows = data.view();
        let params = Params::default();
        let (graph, report) = Graph::build(rows, params, false, &mut |_| {});
        assert_eq!(report.unrepaired, 0);
        let queries: Vec<u32> = (0..3000).step_by(17).collect();
        let r = recall(&graph, rows, &queries, 10, params.ef_search);
        assert!(r >= 0.98, "recall@10 {r}");
        let (again, _) = Graph::build(rows, params, false, &mut |_| {});
        assert_eq!(graph, again, "serial builds must give the same graph");
        let q = row(&rows, 5);
        assert_eq!(graph.search(rows, q, 10, 64), again.search(rows, q, 10, 64));
        // Exact search orders by score, then row.
        let exact = exact_search(rows, q, 10, &|_| false);
        assert_eq!(exact[0].id, 5);
        assert!(exact.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn unreachable_points_are_found_and_repaired() {
        let data = clustered_vectors(1500, 32, 12, 0.5, 3);
        let rows = data.view();
        let (mut graph, report) = Graph::build(rows, Params::default(), false, &mut |_| {});
        assert_eq!((report.unreachable, report.unrepaired), (0, 0), "a fresh serial build finds every point");
        // Cut every edge into some points, as hnsw_rs issue #32 can leave
        // points after a parallel insert.
        let victims = [3u32, 700, 1499];
        for &v in &victims {
            graph.disconnect(v);
        }
        assert_eq!(graph.unreachable(rows, 64), victims.to_vec());
        let (found, left) = graph.check_and_repair(rows, 64);
        assert_eq!((found, left), (3, 0));
        assert!(graph.unreachable(rows, 64).is_empty());
        assert_eq!(graph.repaired, 3);
        for &v in &victims {
            assert_eq!(graph.search(rows, row(&rows, v as usize), 1, 64)[0].id, v);
        }
    }

    #[test]
    fn duplicates_count_as_found_at_their_exact_rank() {
        let base = clustered_vectors(400, 16, 4, 0.5, 11);
        let copy = base.slice(ndarray::s![..1, ..]);
        let data = ndarray::concatenate![ndarray::Axis(0), base, copy, copy];
        let rows = data.view();
        let (graph, report) = Graph::build(rows, Params::default(), false, &mut |_| {});
        assert_eq!(report.unrepaired, 0);
        assert!(graph.unreachable(rows, 64).is_empty());
    }

    #[test]
    fn parallel_build_is_checked_too() {
        let data = clustered_vectors(4000, 32, 40, 0.6, 5);
        let rows = data.view();
        let (graph, report) = Graph::build(rows, Params::default(), true, &mut |_| {});
        assert_eq!(report.unrepaired, 0);
        assert!(graph.unreachable(rows, 64).is_empty());
    }

    #[test]
    fn save_load_round_trip_and_corruption() {
        let data = clustered_vectors(500, 16, 5, 0.5, 1);
        let rows = data.view();
        let (graph, _) = Graph::build(rows, Params { m: 8, ef_construction: 50, ef_search: 32 }, false, &mut |_| {});
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("graph.hnsw");
        assert!(Graph::load(&path).unwrap().is_none());
        graph.save(&path, "abc:7").unwrap();
        let (back, stamp) = Graph::load(&path).unwrap().unwrap();
        assert_eq!(stamp, "abc:7");
        assert_eq!(back, graph);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 0x40;
        let err = Graph::from_bytes(&bytes, "g").unwrap_err();
        assert!(matches!(err, AnnError::Corrupt { .. }), "{err}");
        let err = Graph::from_bytes(&bytes[..50], "g").unwrap_err();
        assert!(err.to_string().contains("corrupted"), "{err}");
        let err = Graph::from_bytes(b"hello world, not a graph at all.........................", "g").unwrap_err();
        assert!(err.to_string().contains("not a motif graph"), "{err}");
        let mut future = graph.to_bytes("x");
        future[8] = 9;
        assert!(matches!(Graph::from_bytes(&future, "g").unwrap_err(), AnnError::FutureFormat { found: 9, .. }));
    }

    #[test]
    fn tiny_graphs_work() {
        let data = clustered_vectors(1, 8, 1, 0.1, 1);
        let rows = data.view();
        let (graph, report) = Graph::build(rows, Params::default(), false, &mut |_| {});
        assert_eq!(report.unrepaired, 0);
        assert_eq!(graph.search(rows, row(&rows, 0), 5, 10).len(), 1);
        let none = ndarray::Array2::<f32>::zeros((0, 8));
        let empty = none.view();
        let (graph, _) = Graph::build(empty, Params::default(), false, &mut |_| {});
        assert!(graph.search(empty, &[0.0; 8], 5, 10).is_empty());
    }
}
