//! Nearest-neighbour search over the stored vectors: an HNSW graph that
//! motif builds, updates, saves and searches itself as plain arrays.
//!
//! Building is motif's own insertion (`insert`: hnswlib's algorithm, serial
//! and deterministic, or over all cores). hnsw_rs, the crate motif first
//! built with, stays only as a yardstick in `motif bench index --hnsw-rs`:
//! measured on the same vectors it builds about three times slower than
//! hnswlib on one thread (README, "HNSW build"), and it cannot insert into a
//! graph that motif has saved, so it could give neither the speed nor the
//! incremental update.
//!
//! Points and rows: points `0..len()` are rows `0..n` of a row-major matrix
//! of unit-length vectors (the store's passages in `load_corpus` order).
//! Points past those are tombstones: removed passages whose vectors the
//! graph keeps so that searches still route through them; they are never
//! returned. Each live point carries a key (a hash of its passage and
//! vector, see `point_key`), so that an update can tell which saved points
//! are still stored, which are gone, and which rows are new, and renumber
//! the graph to the new row order. When tombstones pass `REBUILD_DEAD_SHARE`
//! of the points, the graph is rebuilt instead.
//!
//! The score is the dot product (the cosine) and results are ordered by
//! score, higher first, then by row, so that results never depend on how
//! ties fell. A search for a point's own vector must find it: the
//! self-search check repairs the points it misses (`check_and_repair`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::Write;
use std::path::Path;

use hnsw_rs::prelude::{Distance, Hnsw};
use ndarray::ArrayView2;
use serde::Serialize;

use super::exact::exact_search_many;
use super::insert::{draw_level, prefetch, with_visited, Builder, Points};
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
    #[error("{path}: HNSW graph format {found} is older than this motif writes ({supported}); it is derived data and is rebuilt")]
    OldFormat { path: String, found: u32, supported: u32 },
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
        if !(2..=128).contains(&self.m) {
            return Err(AnnError::Params(format!("M must be between 2 and 128, not {}", self.m)));
        }
        if self.ef_construction < 1 || self.ef_search < 1 {
            return Err(AnnError::Params("ef_construction and ef_search must be at least 1".into()));
        }
        Ok(())
    }
}

/// Past this share of tombstones among a graph's points, an update
/// rebuilds the graph instead (searches slow down as they route through
/// more removed points).
pub const REBUILD_DEAD_SHARE: f64 = 0.2;

/// The key of a stored passage's point: a 64-bit hash of its document's
/// name, its ordinal and its vector's bits, so an edited passage (a new
/// vector) is a new point and an untouched one keeps its point.
pub fn point_key(document: &str, ordinal: usize, vector: &[f32]) -> u64 {
    // FNV-1a over the bytes, then a final mix.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&(document.len() as u64).to_le_bytes());
    eat(document.as_bytes());
    eat(&(ordinal as u64).to_le_bytes());
    for x in vector {
        eat(&x.to_bits().to_le_bytes());
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
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

/// What building or updating a graph did, for summaries and `motif info`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct BuildReport {
    /// Live points (stored passages) in the graph.
    pub points: usize,
    /// Whether the saved graph was updated (else built from scratch).
    pub incremental: bool,
    /// Points inserted: all of them for a build, the new rows for an update.
    pub inserted: usize,
    /// Points this update marked removed.
    pub removed: usize,
    /// Removed points the graph still routes through.
    pub tombstones: usize,
    pub insert_seconds: f64,
    pub check_seconds: f64,
    /// Inserted points a search for their own vector did not find, before repair.
    pub unreachable: usize,
    /// Points still not found after repair (0 unless something is badly wrong).
    pub unrepaired: usize,
}

/// What `Graph::update` gives.
pub enum Update {
    Updated(Box<Graph>, BuildReport),
    /// The graph cannot be updated, for the reason given: build it again.
    Rebuild(String),
}

/// An HNSW graph over rows `0..n`, plus tombstones.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub m: usize,
    pub ef_construction: usize,
    /// The highest layer of each point (live, then tombstones).
    levels: Vec<u8>,
    /// Layer-0 neighbours of each point.
    layer0: Vec<Vec<u32>>,
    /// Neighbours on layers 1..=level, for the few points above layer 0.
    upper: HashMap<u32, Vec<Vec<u32>>>,
    /// Where every search starts: a point on the top layer.
    entry: u32,
    /// Points repaired after insertion, over the graph's life.
    pub repaired: usize,
    /// Points `0..live` are rows; the rest are tombstones.
    live: usize,
    /// The key of each live point.
    keys: Vec<u64>,
    /// The vectors' dimension (0 for an empty graph).
    dim: usize,
    /// The tombstones' vectors, `dim` each.
    dead: Vec<f32>,
}

/// The largest layer count.
const MAX_LAYERS: usize = 16;

/// Points whose distance is within this have the same vector (float error
/// only): the self-search check counts such a hit as the point found, and
/// insertion links a point to at most one of them.
pub(crate) const SAME_VECTOR: f32 = 1e-6;

/// Whether hit `h` of a search for row `i` (vector `q`) finds it: the row
/// itself, or one with the same vector.
fn is_self(h: &Hit, i: u32, q: &[f32]) -> bool {
    h.id == i || h.score >= dot(q, q) - SAME_VECTOR
}

impl Graph {
    /// Builds a graph over every row, keyed by row number (graphs that are
    /// never updated: benchmarks, k-NN graphs of units).
    pub fn build(
        rows: ArrayView2<f32>,
        params: Params,
        parallel: bool,
        progress: &mut dyn FnMut(usize),
    ) -> (Graph, BuildReport) {
        let keys = (0..rows.nrows() as u64).collect();
        Graph::build_keyed(rows, keys, params, parallel, progress)
    }

    /// Builds a graph by inserting every row, in row order, then checks that
    /// every point finds itself and repairs those that do not. `keys` names
    /// each row's point for later updates (see `point_key`).
    ///
    /// Serial insertion (`parallel: false`) is deterministic: the same rows
    /// and keys give the same graph. The parallel insert uses every core;
    /// its graph depends on thread timing.
    pub fn build_keyed(
        rows: ArrayView2<f32>,
        keys: Vec<u64>,
        params: Params,
        parallel: bool,
        progress: &mut dyn FnMut(usize),
    ) -> (Graph, BuildReport) {
        let n = rows.nrows();
        assert_eq!(keys.len(), n, "one key per row");
        let start = std::time::Instant::now();
        let levels: Vec<u8> = keys.iter().map(|&k| draw_level(k, params.m, MAX_LAYERS as u8 - 1)).collect();
        let pts = Points { rows: rows.as_slice().expect("standard layout"), live: n, dead: &[], dim: rows.ncols() };
        let upper = levels.iter().map(|&l| vec![Vec::new(); l as usize]).collect();
        let builder = Builder::new(pts, params.m, params.ef_construction, &levels, vec![Vec::new(); n], upper, None);
        let ids: Vec<u32> = (0..n as u32).collect();
        builder.insert_all(&ids, parallel, progress);
        let (layer0, upper, entry) = builder.finish();
        let mut graph = Graph {
            m: params.m,
            ef_construction: params.ef_construction,
            layer0,
            upper: HashMap::new(),
            entry: entry.map_or(0, |e| e.0),
            repaired: 0,
            live: n,
            keys,
            dim: if n > 0 { rows.ncols() } else { 0 },
            dead: Vec::new(),
            levels,
        };
        graph.set_upper(upper);
        let insert_seconds = start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        let (unreachable, unrepaired) = graph.check_and_repair(rows, params.ef_search);
        let report = BuildReport {
            points: n,
            incremental: false,
            inserted: n,
            removed: 0,
            tombstones: 0,
            insert_seconds,
            check_seconds: start.elapsed().as_secs_f64(),
            unreachable,
            unrepaired,
        };
        (graph, report)
    }

    fn set_upper(&mut self, upper: Vec<Vec<Vec<u32>>>) {
        self.upper =
            upper.into_iter().enumerate().filter(|(_, ls)| !ls.is_empty()).map(|(p, ls)| (p as u32, ls)).collect();
    }

    /// The graph brought up to date with `rows` (their `keys`, one per row):
    /// points whose key is still there are kept (renumbered to their new
    /// row), points whose key is gone become tombstones (their vectors
    /// taken from `before`, the rows this graph was built over; needed only
    /// when something was removed), and new keys are inserted. Only the
    /// inserted points are checked by self-search. Asks for a rebuild when
    /// the parameters differ, `before` is needed but missing, or the
    /// tombstones would pass `REBUILD_DEAD_SHARE`.
    pub fn update(
        &self,
        before: Option<ArrayView2<f32>>,
        rows: ArrayView2<f32>,
        keys: &[u64],
        params: Params,
        parallel: bool,
        progress: &mut dyn FnMut(usize),
    ) -> Update {
        let n = rows.nrows();
        assert_eq!(keys.len(), n, "one key per row");
        if params.m != self.m || params.ef_construction != self.ef_construction {
            return Update::Rebuild("the graph parameters changed".into());
        }
        if self.is_empty() || n == 0 || (self.dim != 0 && self.dim != rows.ncols()) {
            return Update::Rebuild("nothing to update".into());
        }
        let start = std::time::Instant::now();
        let now: HashMap<u64, u32> = keys.iter().enumerate().map(|(r, &k)| (k, r as u32)).collect();
        if now.len() != n {
            return Update::Rebuild("two rows share a key".into());
        }
        let old_points = self.levels.len();
        let old_dead = old_points - self.live;
        let gone: Vec<u32> = (0..self.live as u32).filter(|&p| !now.contains_key(&self.keys[p as usize])).collect();
        let dead = old_dead + gone.len();
        let kept = self.live - gone.len();
        let inserted: Vec<u32> = {
            let old: std::collections::HashSet<u64> = self.keys.iter().copied().collect();
            (0..n as u32).filter(|&r| !old.contains(&keys[r as usize])).collect()
        };
        debug_assert_eq!(kept + inserted.len(), n);
        let points = n + dead;
        if dead as f64 > REBUILD_DEAD_SHARE * points as f64 {
            return Update::Rebuild(format!(
                "removed passages would be {:.0}% of the graph's points, past {:.0}%",
                100.0 * dead as f64 / points as f64,
                100.0 * REBUILD_DEAD_SHARE
            ));
        }
        let mut dead_vectors = self.dead.clone();
        if !gone.is_empty() {
            match before {
                Some(b) if b.nrows() == self.live && b.ncols() == self.dim => {
                    for &p in &gone {
                        dead_vectors.extend_from_slice(row(&b, p as usize));
                    }
                }
                _ => return Update::Rebuild("the removed passages' vectors are not at hand".into()),
            }
        }
        // Old point -> new point: kept ones to their new row, old tombstones
        // after the rows, then the newly removed.
        let mut new_id = vec![u32::MAX; old_points];
        for (id, key) in new_id.iter_mut().zip(&self.keys) {
            if let Some(&r) = now.get(key) {
                *id = r;
            }
        }
        for (d, p) in (self.live..old_points).enumerate() {
            new_id[p] = (n + d) as u32;
        }
        for (d, &p) in gone.iter().enumerate() {
            new_id[p as usize] = (n + old_dead + d) as u32;
        }
        let mut levels = vec![0u8; points];
        let mut layer0 = vec![Vec::new(); points];
        let mut upper: Vec<Vec<Vec<u32>>> = vec![Vec::new(); points];
        let remap = |list: &[u32]| list.iter().map(|&j| new_id[j as usize]).collect::<Vec<u32>>();
        for (p, &q) in new_id.iter().enumerate() {
            let q = q as usize;
            levels[q] = self.levels[p];
            layer0[q] = remap(&self.layer0[p]);
            if let Some(ls) = self.upper.get(&(p as u32)) {
                upper[q] = ls.iter().map(|l| remap(l)).collect();
            }
        }
        for &r in &inserted {
            let l = draw_level(keys[r as usize], self.m, MAX_LAYERS as u8 - 1);
            levels[r as usize] = l;
            upper[r as usize] = vec![Vec::new(); l as usize];
        }
        let entry = new_id[self.entry as usize];
        let pts =
            Points { rows: rows.as_slice().expect("standard layout"), live: n, dead: &dead_vectors, dim: rows.ncols() };
        let builder = Builder::new(
            pts,
            self.m,
            self.ef_construction,
            &levels,
            layer0,
            upper,
            Some((entry, levels[entry as usize])),
        );
        builder.insert_all(&inserted, parallel, progress);
        let (layer0, upper, entry) = builder.finish();
        let mut graph = Graph {
            m: self.m,
            ef_construction: self.ef_construction,
            layer0,
            upper: HashMap::new(),
            entry: entry.expect("not empty").0,
            repaired: self.repaired,
            live: n,
            keys: keys.to_vec(),
            dim: rows.ncols(),
            dead: dead_vectors,
            levels,
        };
        graph.set_upper(upper);
        let insert_seconds = start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        let (unreachable, unrepaired) = graph.check_and_repair_points(rows, params.ef_search, &inserted);
        let report = BuildReport {
            points: n,
            incremental: true,
            inserted: inserted.len(),
            removed: gone.len(),
            tombstones: dead,
            insert_seconds,
            check_seconds: start.elapsed().as_secs_f64(),
            unreachable,
            unrepaired,
        };
        Update::Updated(Box::new(graph), report)
    }

    /// Builds with hnsw_rs, then flattens its graph into motif's: the
    /// yardstick `motif bench index --hnsw-rs` measures motif's insertion
    /// against (no self-search check).
    pub fn build_with_hnsw_rs(rows: ArrayView2<f32>, params: Params, parallel: bool) -> Graph {
        let n = rows.nrows();
        let hnsw: Hnsw<f32, UnitDot> = Hnsw::new(params.m, n.max(1), MAX_LAYERS, params.ef_construction, UnitDot);
        if parallel {
            let batch: Vec<(&[f32], usize)> = (0..n).map(|i| (row(&rows, i), i)).collect();
            hnsw.parallel_insert_slice(&batch);
        } else {
            for i in 0..n {
                hnsw.insert_slice((row(&rows, i), i));
            }
        }
        let mut graph = Graph {
            m: params.m,
            ef_construction: params.ef_construction,
            levels: vec![0; n],
            layer0: vec![Vec::new(); n],
            upper: HashMap::new(),
            entry: 0,
            repaired: 0,
            live: n,
            keys: (0..n as u64).collect(),
            dim: if n > 0 { rows.ncols() } else { 0 },
            dead: Vec::new(),
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
        if let Some(p) = indexation.get_layer_iterator(top as usize).next() {
            graph.entry = p.get_origin_id() as u32;
        }
        graph
    }

    /// Live points: the rows the graph was built over.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The key of each live point (see `point_key`), row order.
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// Removed points the graph still routes through.
    pub fn tombstones(&self) -> usize {
        self.levels.len() - self.live
    }

    /// Tombstones as a share of all points.
    pub fn dead_share(&self) -> f64 {
        self.tombstones() as f64 / self.levels.len().max(1) as f64
    }

    /// Layers above layer 0 (the entry point's level).
    pub fn top_level(&self) -> usize {
        self.levels.get(self.entry as usize).copied().unwrap_or(0) as usize
    }

    fn points<'a>(&'a self, rows: &'a ArrayView2<'a, f32>) -> Points<'a> {
        Points { rows: rows.as_slice().expect("standard layout"), live: self.live, dead: &self.dead, dim: rows.ncols() }
    }

    /// The k rows most similar to `query`, searching with beam width `ef`
    /// (raised to k); tombstones are searched through, never returned.
    /// Deterministic: the same graph, rows and query always give the same
    /// hits in the same order.
    pub fn search(&self, rows: ArrayView2<f32>, query: &[f32], k: usize, ef: usize) -> Vec<Hit> {
        if self.is_empty() || k == 0 {
            return Vec::new();
        }
        debug_assert_eq!(rows.nrows(), self.live);
        let pts = self.points(&rows);
        let dist = |id: u32| 1.0 - dot(query, pts.get(id));
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
        // Beam search on layer 0; only live points enter the results.
        let ef = ef.max(k);
        let live = self.live as u32;
        with_visited(self.levels.len(), |seen| {
            seen.insert(ep.id);
            let mut fresh: Vec<u32> = Vec::with_capacity(4 * self.m + 8);
            let mut candidates = BinaryHeap::with_capacity(2 * ef);
            candidates.push(Reverse(ep));
            let mut best: BinaryHeap<Cand> = BinaryHeap::with_capacity(ef + 1);
            if ep.id < live {
                best.push(ep);
            }
            while let Some(Reverse(c)) = candidates.pop() {
                if best.len() >= ef && c > *best.peek().expect("not empty") {
                    break;
                }
                fresh.clear();
                fresh.extend(self.layer0[c.id as usize].iter().copied().filter(|&nb| seen.insert(nb)));
                for &nb in &fresh {
                    prefetch(&pts, nb);
                }
                for &nb in &fresh {
                    let cand = Cand { dist: dist(nb), id: nb };
                    if best.len() < ef || cand < *best.peek().expect("not empty") {
                        candidates.push(Reverse(cand));
                        if nb < live {
                            best.push(cand);
                            if best.len() > ef {
                                best.pop();
                            }
                        }
                    }
                }
            }
            hits(best.into_vec(), k)
        })
    }

    /// Whether row `i` is found by a search for its own vector at the rank an
    /// exact search gives it: rank 1, unless identical or nearly identical
    /// vectors tie with or outrank it (then it must come right after them).
    fn finds_itself(&self, rows: ArrayView2<f32>, i: u32, ef: usize) -> (bool, Option<Hit>) {
        let q = row(&rows, i as usize);
        // A hit with its own vector (itself, or a duplicate: a heading
        // repeated in many documents) is the right answer to any search
        // that would find it, so a duplicate found counts as found; among
        // hundreds of equal vectors which one a beam returns is only luck,
        // and asking for that one cost minutes of needless repairs.
        let got = self.search(rows, q, 10, ef.max(10));
        let first = got.first().copied();
        if got.iter().any(|h| is_self(h, i, q)) {
            return (true, None);
        }
        // Rare: many duplicates, or an unreachable point. The exact rank decides.
        let me = Cand { dist: 1.0 - dot(q, q), id: i };
        let rank = (0..rows.nrows() as u32)
            .filter(|&j| j != i && Cand { dist: 1.0 - dot(q, row(&rows, j as usize)), id: j } < me)
            .count();
        let got = self.search(rows, q, rank + 1, ef.max(rank + 1));
        (got.iter().any(|h| h.id == i), first)
    }

    /// Rows a search for their own vector does not find.
    pub fn unreachable(&self, rows: ArrayView2<f32>, ef: usize) -> Vec<u32> {
        let all: Vec<u32> = (0..self.live as u32).collect();
        self.unreachable_among(rows, ef, &all)
    }

    /// Those of `ids` that a search for their own vector does not find, on
    /// all cores.
    fn unreachable_among(&self, rows: ArrayView2<f32>, ef: usize, ids: &[u32]) -> Vec<u32> {
        use rayon::prelude::*;
        // A narrow beam finds almost every point at a quarter of the cost;
        // only the rest are searched again at the full width.
        let narrow = ef.min(16);
        let quick = |i: u32| {
            let q = row(&rows, i as usize);
            self.search(rows, q, 1, narrow).first().is_some_and(|h| is_self(h, i, q))
        };
        let mut out: Vec<u32> =
            ids.par_iter().copied().filter(|&i| !quick(i) && !self.finds_itself(rows, i, ef).0).collect();
        out.sort_unstable();
        out
    }

    /// Finds the points a search for their own vector misses and links them
    /// back in: each gets edges to and from its exact nearest neighbours on
    /// layer 0, and the point where its failed search ended gets an edge to
    /// it (which alone guarantees that search now reaches it). Returns the
    /// number of unreachable points found and how many remain after repair.
    pub fn check_and_repair(&mut self, rows: ArrayView2<f32>, ef: usize) -> (usize, usize) {
        let all: Vec<u32> = (0..self.live as u32).collect();
        self.check_and_repair_points(rows, ef, &all)
    }

    /// `check_and_repair` for the points `ids` only (those just inserted).
    pub fn check_and_repair_points(&mut self, rows: ArrayView2<f32>, ef: usize, ids: &[u32]) -> (usize, usize) {
        use rayon::prelude::*;
        let broken = self.unreachable_among(rows, ef, ids);
        let mut remaining = broken.clone();
        for _round in 0..3 {
            if remaining.is_empty() {
                break;
            }
            // Every point's exact neighbours in one batched product (one scan
            // per point cost most of a build on vectors with many repairs).
            let queries = rows.select(ndarray::Axis(0), &remaining.iter().map(|&i| i as usize).collect::<Vec<_>>());
            let near = exact_search_many(rows, queries.view(), 2 * self.m, &|q, j| j == remaining[q]);
            for (&i, near) in remaining.iter().zip(&near) {
                self.link(rows, i, near, ef);
            }
            let found: Vec<bool> = remaining.par_iter().map(|&i| self.finds_itself(rows, i, ef).0).collect();
            let mut found = found.into_iter();
            remaining.retain(|_| !found.next().unwrap_or(false));
        }
        self.repaired += broken.len() - remaining.len();
        (broken.len(), remaining.len())
    }

    /// Links `i` both ways to the first m of `near` (its exact nearest
    /// other rows, best first).
    fn link(&mut self, rows: ArrayView2<f32>, i: u32, near: &[Hit], ef: usize) {
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

    /// The graph as bytes: header, neighbour lists, keys, tombstone
    /// vectors, SHA-256 of all before it. `stamp` names what the graph was
    /// built from (the store's generation), so a reader can tell a stale
    /// graph.
    pub fn to_bytes(&self, stamp: &str) -> Vec<u8> {
        let points = self.levels.len();
        let mut b = Vec::with_capacity(64 + points * (16 + 4 * 2 * self.m) + 4 * self.dead.len());
        b.extend_from_slice(MAGIC);
        put_u32(&mut b, GRAPH_FORMAT);
        put_u32(&mut b, stamp.len() as u32);
        b.extend_from_slice(stamp.as_bytes());
        put_u64(&mut b, points as u64);
        put_u64(&mut b, self.live as u64);
        put_u32(&mut b, self.dim as u32);
        put_u32(&mut b, self.m as u32);
        put_u32(&mut b, self.ef_construction as u32);
        put_u32(&mut b, self.entry);
        put_u64(&mut b, self.repaired as u64);
        for i in 0..points {
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
        for &k in &self.keys {
            put_u64(&mut b, k);
        }
        for &x in &self.dead {
            b.extend_from_slice(&x.to_le_bytes());
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
        if format < GRAPH_FORMAT {
            return Err(AnnError::OldFormat { path: path.to_string(), found: format, supported: GRAPH_FORMAT });
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
        if !graph.levels.is_empty() {
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
/// 2: tombstones and point keys (incremental updates); 1 had neither.
const GRAPH_FORMAT: u32 = 2;

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
    let live = r.u64()? as usize;
    let dim = r.u32()? as usize;
    let m = r.u32()? as usize;
    let ef_construction = r.u32()? as usize;
    let entry = r.u32()?;
    let repaired = r.u64()? as usize;
    if n > body.len() || live > n || (n > 0 && entry as usize >= n) || (n > live && dim == 0) {
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
        live,
        keys: Vec::with_capacity(live),
        dim,
        dead: Vec::new(),
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
    for _ in 0..live {
        graph.keys.push(r.u64()?);
    }
    let floats = (n - live).checked_mul(dim).and_then(|f| f.checked_mul(4)).ok_or("bad header")?;
    graph.dead = r.take(floats)?.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
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
    use crate::index::exact_search;
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
    fn hundreds_of_equal_vectors_need_no_repair() {
        let base = clustered_vectors(400, 16, 4, 0.5, 12);
        let copies: Vec<_> = (0..300).map(|_| base.slice(ndarray::s![..1, ..])).collect();
        let mut parts = vec![base.view()];
        parts.extend(copies);
        let data = ndarray::concatenate(ndarray::Axis(0), &parts).unwrap();
        let rows = data.view();
        let (graph, report) = Graph::build(rows, Params::default(), false, &mut |_| {});
        assert_eq!((report.unreachable, report.unrepaired), (0, 0), "equal vectors are found as each other");
        assert!(graph.unreachable(rows, 64).is_empty());
        // The other points are still found as themselves.
        for i in (1..400).step_by(7) {
            assert_eq!(graph.search(rows, row(&rows, i), 1, 64)[0].id, i as u32);
        }
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

    fn exact_recall(graph: &Graph, rows: ArrayView2<f32>, queries: &[Vec<f32>], k: usize) -> f64 {
        let exact: Vec<Vec<Hit>> = queries.iter().map(|q| exact_search(rows, q, k, &|_| false)).collect();
        let approx: Vec<Vec<Hit>> = queries.iter().map(|q| graph.search(rows, q, k, 64)).collect();
        crate::index::recall_at_k(&exact, &approx, k)
    }

    fn updated(u: Update) -> (Graph, BuildReport) {
        match u {
            Update::Updated(g, r) => (*g, r),
            Update::Rebuild(why) => panic!("asked for a rebuild: {why}"),
        }
    }

    #[test]
    fn inserting_into_a_built_graph_matches_a_fresh_build() {
        let data = clustered_vectors(4000, 32, 40, 0.6, 21);
        let rows = data.view();
        let params = Params::default();
        let base = 3600;
        let (graph, _) = Graph::build(rows.slice(ndarray::s![..base, ..]), params, false, &mut |_| {});
        let keys: Vec<u64> = (0..4000).collect();
        let (grown, report) = updated(graph.update(None, rows, &keys, params, false, &mut |_| {}));
        assert!(report.incremental);
        assert_eq!((report.inserted, report.removed, report.tombstones, grown.len()), (400, 0, 0, 4000));
        assert_eq!(report.unrepaired, 0);
        // Every inserted point finds itself; queries over the whole set
        // are as good as a fresh build's.
        assert!(grown.unreachable(rows, 64).is_empty());
        let queries: Vec<Vec<f32>> = (0..4000).step_by(13).map(|i| row(&rows, i).to_vec()).collect();
        let r = exact_recall(&grown, rows, &queries, 10);
        assert!(r >= 0.99, "recall@10 after insertion {r}");
        let inserted_found =
            (base..4000).filter(|&i| grown.search(rows, row(&rows, i), 1, 64)[0].id == i as u32).count();
        assert_eq!(inserted_found, 400);
        // Serial updates are deterministic too; parallel ones are checked.
        let (again, _) = updated(graph.update(None, rows, &keys, params, false, &mut |_| {}));
        assert_eq!(grown, again);
        let (par, report) = updated(graph.update(None, rows, &keys, params, true, &mut |_| {}));
        assert_eq!(report.unrepaired, 0);
        assert!(exact_recall(&par, rows, &queries, 10) >= 0.99);
    }

    #[test]
    fn removed_points_are_never_returned_and_rows_follow_the_new_order() {
        let data = clustered_vectors(3000, 32, 30, 0.6, 8);
        let rows = data.view();
        let params = Params::default();
        let keys: Vec<u64> = (1000..4000).collect();
        let (graph, _) = Graph::build_keyed(rows, keys.clone(), params, false, &mut |_| {});
        // Remove every 10th row (300, 10%), and add 100 new rows at the front.
        let extra = clustered_vectors(100, 32, 5, 0.6, 99);
        let kept: Vec<usize> = (0..3000).filter(|i| i % 10 != 0).collect();
        let now = ndarray::concatenate![ndarray::Axis(0), extra.view(), rows.select(ndarray::Axis(0), &kept).view()];
        let now_keys: Vec<u64> = (0..100).chain(kept.iter().map(|&i| keys[i])).collect();
        assert!(
            matches!(graph.update(None, now.view(), &now_keys, params, false, &mut |_| {}), Update::Rebuild(_)),
            "removing needs the old vectors"
        );
        let (after, report) = updated(graph.update(Some(rows), now.view(), &now_keys, params, false, &mut |_| {}));
        assert_eq!((report.inserted, report.removed, report.tombstones), (100, 300, 300));
        assert_eq!((after.len(), after.tombstones()), (2800, 300));
        // Queries at the removed points' own vectors: they are never
        // returned, every hit is a row of the new matrix, and the results
        // agree with exact search over it.
        let gone: Vec<Vec<f32>> = (0..3000).step_by(10).map(|i| row(&rows, i).to_vec()).collect();
        for q in &gone {
            let hits = after.search(now.view(), q, 10, 64);
            assert_eq!(hits.len(), 10);
            assert!(hits.iter().all(|h| (h.id as usize) < 2800));
            assert!(hits.iter().all(|h| (h.score - dot(q, row(&now, h.id as usize))).abs() < 1e-6));
        }
        assert!(exact_recall(&after, now.view(), &gone, 10) >= 0.99);
        let queries: Vec<Vec<f32>> = (0..2800).step_by(7).map(|i| row(&now, i).to_vec()).collect();
        assert!(exact_recall(&after, now.view(), &queries, 10) >= 0.99);
        // Tombstones survive saving.
        let (back, _) = Graph::from_bytes(&after.to_bytes("s"), "g").unwrap();
        assert_eq!(back, after);
        // Another 20% removed would pass the share: rebuild.
        let fewer: Vec<usize> = (0..2800).filter(|i| i % 5 != 0).collect();
        let less = now.select(ndarray::Axis(0), &fewer);
        let less_keys: Vec<u64> = fewer.iter().map(|&i| now_keys[i]).collect();
        match after.update(Some(now.view()), less.view(), &less_keys, params, false, &mut |_| {}) {
            Update::Rebuild(why) => assert!(why.contains("past 20%"), "{why}"),
            Update::Updated(..) => panic!("past the tombstone share, the graph must be rebuilt"),
        }
        // Other parameters: rebuild.
        let other = Params { m: 8, ..params };
        assert!(matches!(after.update(None, now.view(), &now_keys, other, false, &mut |_| {}), Update::Rebuild(_)));
    }

    #[test]
    fn an_older_graph_file_is_told_apart() {
        let data = clustered_vectors(50, 8, 2, 0.5, 1);
        let (graph, _) = Graph::build(data.view(), Params::default(), false, &mut |_| {});
        let mut old = graph.to_bytes("x");
        old[8] = 1;
        assert!(matches!(Graph::from_bytes(&old, "g").unwrap_err(), AnnError::OldFormat { found: 1, .. }));
    }

    #[test]
    fn keys_follow_passage_and_vector() {
        let v = [0.6f32, 0.8];
        assert_eq!(point_key("a", 1, &v), point_key("a", 1, &v));
        assert_ne!(point_key("a", 1, &v), point_key("a", 2, &v));
        assert_ne!(point_key("a", 1, &v), point_key("b", 1, &v));
        assert_ne!(point_key("a", 1, &v), point_key("a", 1, &[0.8, 0.6]));
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
