//! Insertion into an HNSW graph: motif's own, after Malkov & Yashunin,
//! "Efficient and robust approximate nearest neighbor search using
//! Hierarchical Navigable Small World graphs" (2018), Algorithms 1 (INSERT),
//! 2 (SEARCH-LAYER) and 4 (SELECT-NEIGHBORS-HEURISTIC), the way hnswlib does
//! them (hnswlib/hnswalg.h: `addPoint`, `searchBaseLayer`,
//! `getNeighborsByHeuristic2`, `mutuallyConnectNewElement`):
//!
//! - a new point picks M neighbours per layer with the heuristic (a
//!   candidate is kept only if it is closer to the new point than to every
//!   neighbour kept before it), keeping at most one point with the new
//!   point's own vector;
//! - each neighbour links back; a neighbour whose list is full (2M on layer
//!   0, M above) re-selects its list with the same heuristic;
//! - parallel insertion locks one neighbour list at a time (hnswlib's
//!   per-element locks) and holds one more lock while a point that rises
//!   above the top layer is inserted.
//!
//! Serial insertion is deterministic: levels come from a hash of each
//! point's key, and ties are broken by point id.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Mutex, MutexGuard};

use rayon::prelude::*;

use super::hnsw::SAME_VECTOR;
use super::Cand;
use crate::matrix::dot;

/// Every point's vector: points `0..live` are rows of the store's matrix,
/// the rest are tombstones whose vectors the graph keeps.
#[derive(Clone, Copy)]
pub(crate) struct Points<'a> {
    pub rows: &'a [f32],
    pub live: usize,
    pub dead: &'a [f32],
    pub dim: usize,
}

impl<'a> Points<'a> {
    #[inline]
    pub fn get(&self, p: u32) -> &'a [f32] {
        let p = p as usize;
        let d = self.dim;
        if p < self.live {
            &self.rows[p * d..(p + 1) * d]
        } else {
            let q = p - self.live;
            &self.dead[q * d..(q + 1) * d]
        }
    }
}

/// Asks the CPU to start loading point `p`'s vector, as hnswlib does
/// before it computes a batch of distances.
#[inline(always)]
pub(crate) fn prefetch(pts: &Points, p: u32) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let v = pts.get(p);
        let at = v.as_ptr() as *const i8;
        // Every cache line of the vector (24 at dimension 384).
        for line in (0..std::mem::size_of_val(v)).step_by(64) {
            // SAFETY: prefetching never faults, and SSE is part of x86_64.
            #[allow(unused_unsafe)]
            unsafe {
                _mm_prefetch(at.wrapping_add(line), _MM_HINT_T0);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (pts, p);
}

/// A visited set that is cleared in O(1): a mark per point, and the
/// current stamp; one per thread, reused by every search on it.
pub(crate) struct Visited {
    marks: Vec<u32>,
    stamp: u32,
}

impl Visited {
    fn new() -> Self {
        Visited { marks: Vec::new(), stamp: 0 }
    }

    /// Empties the set for points `0..n`.
    pub fn reset(&mut self, n: usize) {
        if self.marks.len() < n {
            self.marks.resize(n, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.marks.fill(0);
            self.stamp = 1;
        }
    }

    /// Adds `id`; true when it was not there yet.
    #[inline]
    pub fn insert(&mut self, id: u32) -> bool {
        let m = &mut self.marks[id as usize];
        if *m == self.stamp {
            false
        } else {
            *m = self.stamp;
            true
        }
    }
}

thread_local! {
    static VISITED: RefCell<Visited> = RefCell::new(Visited::new());
}

/// Runs `f` with this thread's visited set, emptied for points `0..n`.
pub(crate) fn with_visited<R>(n: usize, f: impl FnOnce(&mut Visited) -> R) -> R {
    VISITED.with(|v| {
        let mut v = v.borrow_mut();
        v.reset(n);
        f(&mut v)
    })
}

/// A point's highest layer, drawn from its key: floor(-ln(u) / ln(M)) for
/// u uniform in (0, 1] (the paper's mL = 1 / ln(M)), at most `max`.
pub(crate) fn draw_level(key: u64, m: usize, max: u8) -> u8 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let u = ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let level = (-u.ln() / (m.max(2) as f64).ln()).floor();
    level.min(max as f64) as u8
}

/// A graph under construction: neighbour lists behind one lock each.
pub(crate) struct Builder<'a> {
    pub pts: Points<'a>,
    pub m: usize,
    pub ef: usize,
    pub levels: &'a [u8],
    /// Layer-0 list of every point.
    pub layer0: Vec<Mutex<Vec<u32>>>,
    /// `upper[p][l - 1]`: point p's list on layer l (empty below level 1).
    pub upper: Vec<Vec<Mutex<Vec<u32>>>>,
    /// The entry point and its level; `None` while the graph is empty.
    pub entry: Mutex<Option<(u32, u8)>>,
    /// Held while a point that rises above the top layer is inserted.
    top_lock: Mutex<()>,
}

/// Layer-0 lists, upper lists (`[point][layer - 1]`) and the entry point.
pub(crate) type Lists = (Vec<Vec<u32>>, Vec<Vec<Vec<u32>>>, Option<(u32, u8)>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a list lock leaves a valid list behind.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<'a> Builder<'a> {
    pub fn new(
        pts: Points<'a>,
        m: usize,
        ef: usize,
        levels: &'a [u8],
        layer0: Vec<Vec<u32>>,
        upper: Vec<Vec<Vec<u32>>>,
        entry: Option<(u32, u8)>,
    ) -> Self {
        Builder {
            pts,
            m,
            ef: ef.max(1),
            levels,
            layer0: layer0.into_iter().map(Mutex::new).collect(),
            upper: upper.into_iter().map(|ls| ls.into_iter().map(Mutex::new).collect()).collect(),
            entry: Mutex::new(entry),
            top_lock: Mutex::new(()),
        }
    }

    /// The lists back as plain vectors, and the entry point.
    pub fn finish(self) -> Lists {
        let take = |m: Mutex<Vec<u32>>| m.into_inner().unwrap_or_else(|e| e.into_inner());
        let layer0 = self.layer0.into_iter().map(take).collect();
        let upper = self.upper.into_iter().map(|ls| ls.into_iter().map(take).collect()).collect();
        (layer0, upper, self.entry.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    fn list(&self, p: u32, layer: usize) -> &Mutex<Vec<u32>> {
        if layer == 0 {
            &self.layer0[p as usize]
        } else {
            &self.upper[p as usize][layer - 1]
        }
    }

    #[inline]
    fn dist(&self, q: &[f32], p: u32) -> f32 {
        1.0 - dot(q, self.pts.get(p))
    }

    /// Inserts `ids` in order: one by one, or spread over rayon's threads
    /// (each a block of 1024 at a time, `progress` told after each block).
    pub fn insert_all(&self, ids: &[u32], parallel: bool, progress: &mut dyn FnMut(usize)) {
        let n = self.levels.len();
        let mut first = 0;
        if parallel && lock(&self.entry).is_none() && !ids.is_empty() {
            // The entry point first, alone, as hnswlib's add_items does.
            with_visited(n, |v| self.insert(ids[0], v));
            first = 1;
            progress(1);
        }
        for block in ids[first..].chunks(1024) {
            if parallel {
                block.par_iter().for_each(|&p| with_visited(n, |v| self.insert(p, v)));
            } else {
                for &p in block {
                    with_visited(n, |v| self.insert(p, v));
                }
            }
            progress(block.len());
        }
    }

    /// Algorithm 1: links point `p` (its lists empty) into the graph.
    pub fn insert(&self, p: u32, vis: &mut Visited) {
        let q = self.pts.get(p);
        let level = self.levels[p as usize];
        let (mut ep, mut top) = {
            let mut e = lock(&self.entry);
            match *e {
                None => {
                    *e = Some((p, level));
                    return;
                }
                Some(x) => x,
            }
        };
        let _rising = if level > top {
            let guard = lock(&self.top_lock);
            (ep, top) = lock(&self.entry).expect("set above");
            Some(guard)
        } else {
            None
        };
        let mut buf: Vec<u32> = Vec::with_capacity(2 * self.m + 1);
        let mut cur = Cand { dist: self.dist(q, ep), id: ep };
        // Greedy descent through the layers above the new point's.
        for layer in ((level as usize + 1)..=top as usize).rev() {
            loop {
                let mut moved = false;
                buf.clear();
                buf.extend_from_slice(&lock(self.list(cur.id, layer)));
                for &nb in &buf {
                    let c = Cand { dist: self.dist(q, nb), id: nb };
                    if c < cur {
                        cur = c;
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        for layer in (0..=level.min(top) as usize).rev() {
            let found = self.search_layer(q, cur, layer, vis, &mut buf);
            let chosen = self.select(&found, self.m);
            *lock(self.list(p, layer)) = chosen.iter().map(|c| c.id).collect();
            for c in &chosen {
                self.connect(c.id, p, c.dist, layer);
            }
            cur = found[0];
        }
        if level > top {
            let mut e = lock(&self.entry);
            if e.is_none_or(|(_, t)| level > t) {
                *e = Some((p, level));
            }
        }
    }

    /// Algorithm 2 with beam `ef` (hnswlib's `searchBaseLayer`): the points
    /// found from `ep` on `layer`, nearest first.
    fn search_layer(&self, q: &[f32], ep: Cand, layer: usize, vis: &mut Visited, buf: &mut Vec<u32>) -> Vec<Cand> {
        vis.reset(self.levels.len());
        vis.insert(ep.id);
        let mut candidates = BinaryHeap::with_capacity(self.ef * 2);
        candidates.push(Reverse(ep));
        let mut best = BinaryHeap::with_capacity(self.ef + 1);
        best.push(ep);
        while let Some(Reverse(c)) = candidates.pop() {
            let bound = *best.peek().expect("not empty");
            if c > bound && best.len() >= self.ef {
                break;
            }
            buf.clear();
            buf.extend(lock(self.list(c.id, layer)).iter().copied().filter(|&nb| vis.insert(nb)));
            for &nb in buf.iter() {
                prefetch(&self.pts, nb);
            }
            for &nb in buf.iter() {
                let cand = Cand { dist: self.dist(q, nb), id: nb };
                if best.len() < self.ef || cand < *best.peek().expect("not empty") {
                    candidates.push(Reverse(cand));
                    best.push(cand);
                    if best.len() > self.ef {
                        best.pop();
                    }
                }
            }
        }
        best.into_sorted_vec()
    }

    /// Algorithm 4 as hnswlib's `getNeighborsByHeuristic2`: from candidates
    /// nearest first, keeps each that is nearer the base than every one kept
    /// before it, up to `m`.
    fn select(&self, sorted: &[Cand], m: usize) -> Vec<Cand> {
        if sorted.len() <= m {
            return sorted.to_vec();
        }
        let mut kept: Vec<Cand> = Vec::with_capacity(m);
        let mut twin = false;
        for c in sorted {
            if kept.len() >= m {
                break;
            }
            // Points with the point's own vector (a heading repeated in many
            // documents) pass the test below against each other (0 ≥ 0), so
            // hundreds of them would fill each other's lists and trap every
            // search that enters them: keep one, which is all a search needs.
            if c.dist <= SAME_VECTOR {
                if !twin {
                    twin = true;
                    kept.push(*c);
                }
                continue;
            }
            let v = self.pts.get(c.id);
            if kept.iter().all(|k| self.dist(v, k.id) >= c.dist) {
                kept.push(*c);
            }
        }
        kept
    }

    /// Adds `p` (at distance `d`) to `s`'s list on `layer`, re-selecting
    /// that list when it is full (hnswlib's `mutuallyConnectNewElement`).
    fn connect(&self, s: u32, p: u32, d: f32, layer: usize) {
        let cap = if layer == 0 { 2 * self.m } else { self.m };
        let mut list = lock(self.list(s, layer));
        if list.contains(&p) {
            return;
        }
        if list.len() < cap {
            list.push(p);
            return;
        }
        let sv = self.pts.get(s);
        for &j in list.iter() {
            prefetch(&self.pts, j);
        }
        let mut cands: Vec<Cand> = list.iter().map(|&j| Cand { dist: self.dist(sv, j), id: j }).collect();
        cands.push(Cand { dist: d, id: p });
        cands.sort_unstable();
        *list = self.select(&cands, cap).into_iter().map(|c| c.id).collect();
    }
}
