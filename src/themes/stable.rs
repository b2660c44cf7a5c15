//! Themes that keep their ids from one run to the next: the themes found
//! now are matched to the previous run's (a `SavedRun`, which the index
//! stores) by the units they share, and by centroid when they share none.
//!
//! Owns the matching rules and the saved form. A unit is known across runs
//! by its document's name, its byte span and a hash of its text, so a unit
//! of a changed document is a new unit. Per level of the tree, for a theme
//! N found now and a theme O of the previous run, with s units in common:
//! `into(O, N)` = s / (O's units still in the corpus), `from(O, N)` = s /
//! (N's units that were in the previous run).
//!
//! - **persisting**: O is N's largest source and more than half of O went
//!   into N, and no other old theme did the same; N takes O's id and label.
//! - **merged**: more than half of two or more old themes went into N; a
//!   new id, `from` lists them.
//! - **split**: more than half of N comes from one old theme O, but O's
//!   majority is not in N (or went to another theme); a new id, `from` = O.
//! - a theme whose units are all new takes the id and label of an old
//!   theme of its level that has no successor if their centroids' cosine is
//!   at least `CENTROID_MATCH` (persisting); otherwise it is **new**.
//! - **vanished**: an old theme that no theme persists, merges or splits
//!   from; listed apart.
//!
//! New ids start above every id the index has handed out (`next_id`), so
//! an id never comes back with another meaning.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Themes;

/// Cosine between centroids above which a theme of all-new units takes
/// over an old theme that has no successor.
pub const CENTROID_MATCH: f32 = 0.9;

/// How a theme relates to the previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    New,
    Persisting,
    Merged,
    Split,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Persisting => "persisting",
            Status::Merged => "merged",
            Status::Split => "split",
        }
    }
}

/// A theme of the previous run that has no successor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vanished {
    pub id: usize,
    pub level: usize,
    pub label: String,
    pub size: usize,
}

/// How a unit is known across runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitKey {
    pub doc: String,
    pub start: usize,
    pub end: usize,
    pub hash: u64,
}

impl UnitKey {
    pub fn new(doc: &str, start: usize, end: usize, text: &str) -> UnitKey {
        UnitKey { doc: doc.to_string(), start, end, hash: fnv1a(text.as_bytes()) }
    }
}

/// FNV-1a, 64 bits: the same on every platform and run.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A theme as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTheme {
    pub id: usize,
    pub level: usize,
    pub parent: Option<usize>,
    pub label: String,
    pub size: usize,
    pub centroid: Vec<f32>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub from: Vec<usize>,
}

/// A run's themes as the index keeps them: every theme of every level, and
/// every unit (document, span, text hash) with its leaf theme's id (none:
/// an outlier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedRun {
    /// The lowest id never handed out.
    pub next_id: usize,
    pub themes: Vec<SavedTheme>,
    /// Document names, which `units` refer to by position.
    pub docs: Vec<String>,
    /// (document, start, end, text hash, leaf theme id).
    pub units: Vec<(usize, usize, usize, u64, Option<usize>)>,
    /// The themes that had vanished when this run was made.
    #[serde(default)]
    pub vanished: Vec<Vanished>,
}

impl SavedRun {
    /// The run as it is now (after `track`), to save.
    pub fn of(themes: &Themes, keys: &[UnitKey], next_id: usize) -> SavedRun {
        let mut docs: Vec<String> = Vec::new();
        let mut doc_index: HashMap<&str, usize> = HashMap::new();
        let units = keys
            .iter()
            .zip(&themes.assignment)
            .map(|(k, a)| {
                let d = *doc_index.entry(k.doc.as_str()).or_insert_with(|| {
                    docs.push(k.doc.clone());
                    docs.len() - 1
                });
                (d, k.start, k.end, k.hash, a.map(|l| themes.themes[l].id))
            })
            .collect();
        let saved = themes
            .all()
            .map(|t| SavedTheme {
                id: t.id,
                level: t.level,
                parent: t.parent,
                label: t.label.clone(),
                size: t.size(),
                centroid: t.centroid.clone(),
                status: t.status,
                from: t.from.clone(),
            })
            .collect();
        let top = themes.all().map(|t| t.id + 1).max().unwrap_or(0);
        SavedRun { next_id: next_id.max(top), themes: saved, docs, units, vanished: themes.vanished.clone() }
    }

    /// The same themes over the same units (ids, levels, parents, sizes).
    fn same_as(&self, other: &SavedRun) -> bool {
        let shape = |r: &SavedRun| r.themes.iter().map(|t| (t.id, t.level, t.parent, t.size)).collect::<Vec<_>>();
        self.docs == other.docs && self.units == other.units && shape(self) == shape(other)
    }

    fn theme(&self, id: usize) -> Option<&SavedTheme> {
        self.themes.iter().find(|t| t.id == id)
    }

    /// Each saved unit's theme id at `level` (through the parents).
    fn at_level(&self, level: usize) -> Vec<Option<usize>> {
        let mut up: HashMap<usize, Option<usize>> = HashMap::new();
        for t in self.themes.iter().filter(|t| t.level == 0) {
            let mut cur = Some(t);
            while let Some(c) = cur {
                if c.level >= level {
                    break;
                }
                cur = c.parent.and_then(|p| self.theme(p));
            }
            up.insert(t.id, cur.filter(|c| c.level == level).map(|c| c.id));
        }
        self.units.iter().map(|u| u.4.and_then(|l| up.get(&l).copied().flatten())).collect()
    }
}

/// Matches `themes` to `previous` (see the module doc): ids, labels,
/// statuses, `from` and the vanished list. Returns the run to save. With
/// no previous run, every theme is new and keeps the id it was found with.
/// When the themes come out exactly as the previous run's (same units,
/// same members), that run's statuses and vanished list stand: they tell
/// what changed when the corpus last changed, and a run repeated on the
/// same index prints the same bytes. `keys[i]` is unit i's key.
pub fn track(themes: &mut Themes, keys: &[UnitKey], previous: Option<&SavedRun>) -> SavedRun {
    let mut run = match_ids(themes, keys, previous);
    if let Some(old) = previous.filter(|old| old.same_as(&run)) {
        for (t, o) in themes.themes.iter_mut().chain(themes.broader.iter_mut()).zip(&old.themes) {
            t.status = o.status.or(Some(Status::Persisting));
            t.from = o.from.clone();
        }
        themes.vanished = old.vanished.clone();
        run = SavedRun::of(themes, keys, run.next_id);
    }
    run
}

fn match_ids(themes: &mut Themes, keys: &[UnitKey], previous: Option<&SavedRun>) -> SavedRun {
    let Some(old) = previous else {
        for t in themes.themes.iter_mut().chain(themes.broader.iter_mut()) {
            t.status = Some(Status::New);
        }
        return SavedRun::of(themes, keys, 0);
    };
    // Old unit position of each new unit, and which old units are still here.
    let mut old_pos: HashMap<(&str, usize, usize, u64), usize> = HashMap::new();
    for (i, u) in old.units.iter().enumerate() {
        old_pos.insert((old.docs[u.0].as_str(), u.1, u.2, u.3), i);
    }
    let known: Vec<Option<usize>> =
        keys.iter().map(|k| old_pos.get(&(k.doc.as_str(), k.start, k.end, k.hash)).copied()).collect();
    let mut present = vec![false; old.units.len()];
    for &p in known.iter().flatten() {
        present[p] = true;
    }
    // Decisions per new theme, in `all()` order: (status, old id kept, from).
    let all_new: Vec<(usize, Vec<usize>, Vec<f32>)> =
        themes.all().map(|t| (t.level, t.members.clone(), t.centroid.clone())).collect();
    let mut decisions: Vec<(Status, Option<usize>, Vec<usize>)> = vec![(Status::New, None, Vec::new()); all_new.len()];
    let mut succeeded: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let levels = all_new.iter().map(|t| t.0).max().unwrap_or(0);
    for level in 0..=levels {
        let old_at = old.at_level(level);
        let mut old_present: HashMap<usize, usize> = HashMap::new();
        for (u, t) in old_at.iter().enumerate() {
            if let (Some(t), true) = (t, present[u]) {
                *old_present.entry(*t).or_default() += 1;
            }
        }
        let here: Vec<usize> = (0..all_new.len()).filter(|&i| all_new[i].0 == level).collect();
        // Shared units: per new theme, old id → count; and its known count.
        let shared: Vec<(Vec<(usize, usize)>, usize)> = here
            .iter()
            .map(|&i| {
                let mut counts: HashMap<usize, usize> = HashMap::new();
                let mut seen = 0;
                for &m in &all_new[i].1 {
                    if let Some(p) = known[m] {
                        seen += 1;
                        if let Some(o) = old_at[p] {
                            *counts.entry(o).or_default() += 1;
                        }
                    }
                }
                let mut counts: Vec<(usize, usize)> = counts.into_iter().collect();
                counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                (counts, seen)
            })
            .collect();
        let into = |o: usize, s: usize| s as f64 / old_present.get(&o).copied().unwrap_or(0).max(1) as f64;
        for (h, &i) in here.iter().enumerate() {
            let (counts, seen) = &shared[h];
            let majorities: Vec<usize> = counts.iter().filter(|(o, s)| into(*o, *s) > 0.5).map(|(o, _)| *o).collect();
            let main = counts.first().copied();
            decisions[i] = if majorities.len() >= 2 {
                let mut from = majorities.clone();
                from.sort_unstable();
                (Status::Merged, None, from)
            } else if let Some((o, _)) = main.filter(|(o, _)| majorities.first() == Some(o)) {
                (Status::Persisting, Some(o), Vec::new())
            } else if let Some((o, _)) = main.filter(|(_, s)| *s as f64 / (*seen).max(1) as f64 > 0.5) {
                (Status::Split, None, vec![o])
            } else {
                (Status::New, None, Vec::new())
            };
            match &decisions[i] {
                (Status::Persisting, Some(o), _) => {
                    succeeded.insert(*o);
                }
                (_, _, from) => succeeded.extend(from.iter().copied()),
            }
        }
        // All-new themes may take over an old theme of theirs by centroid.
        for (h, &i) in here.iter().enumerate() {
            if shared[h].1 > 0 || decisions[i].0 != Status::New {
                continue;
            }
            let best = old
                .themes
                .iter()
                .filter(|o| o.level == level && !succeeded.contains(&o.id) && o.centroid.len() == all_new[i].2.len())
                .map(|o| (o.centroid.iter().zip(&all_new[i].2).map(|(a, b)| a * b).sum::<f32>(), o.id))
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            if let Some((_, o)) = best.filter(|(c, _)| *c >= CENTROID_MATCH) {
                decisions[i] = (Status::Persisting, Some(o), Vec::new());
                succeeded.insert(o);
            }
        }
    }
    // New ids, and the map from the ids found to the ids kept.
    let mut next_id = old.next_id.max(old.themes.iter().map(|t| t.id + 1).max().unwrap_or(0));
    let mut map: HashMap<usize, usize> = HashMap::new();
    let found_ids: Vec<usize> = themes.all().map(|t| t.id).collect();
    for (i, d) in decisions.iter().enumerate() {
        let id = match d.1 {
            Some(o) => o,
            None => {
                next_id += 1;
                next_id - 1
            }
        };
        map.insert(found_ids[i], id);
    }
    for (i, t) in themes.themes.iter_mut().chain(themes.broader.iter_mut()).enumerate() {
        let (status, kept, from) = &decisions[i];
        t.id = map[&t.id];
        t.parent = t.parent.map(|p| map[&p]);
        t.children = t.children.iter().map(|c| map[c]).collect();
        t.status = Some(*status);
        t.from = from.clone();
        if let Some(label) = kept.and_then(|o| old.theme(o)).map(|o| o.label.clone()) {
            t.label = label;
        }
    }
    themes.vanished = old
        .themes
        .iter()
        .filter(|o| !succeeded.contains(&o.id))
        .map(|o| Vanished { id: o.id, level: o.level, label: o.label.clone(), size: o.size })
        .collect();
    SavedRun::of(themes, keys, next_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::themes::Theme;

    fn theme(id: usize, members: Vec<usize>, centroid: Vec<f32>) -> Theme {
        Theme {
            id,
            members,
            keywords: Vec::new(),
            label: format!("found {id}"),
            central: Vec::new(),
            documents: Vec::new(),
            level: 0,
            parent: None,
            children: Vec::new(),
            centroid,
            status: None,
            from: Vec::new(),
        }
    }

    /// Leaf themes over units "d:i" (one document per letter).
    fn run(groups: &[Vec<usize>], units: usize) -> (Themes, Vec<UnitKey>) {
        let mut assignment = vec![None; units];
        let mut ts = Vec::new();
        for (g, m) in groups.iter().enumerate() {
            for &u in m {
                assignment[u] = Some(g);
            }
            let mut c = vec![0.0; 8];
            c[g % 8] = 1.0;
            ts.push(theme(g, m.clone(), c));
        }
        let keys = (0..units).map(|i| UnitKey::new("d", i * 10, i * 10 + 5, &format!("unit {i}"))).collect();
        let t = Themes {
            themes: ts,
            broader: Vec::new(),
            vanished: Vec::new(),
            outliers: Vec::new(),
            reassigned: 0,
            assignment,
        };
        (t, keys)
    }

    fn ids(t: &Themes) -> Vec<(usize, Status)> {
        t.themes.iter().map(|t| (t.id, t.status.unwrap())).collect()
    }

    #[test]
    fn unchanged_themes_keep_ids_and_labels() {
        let groups = vec![(0..10).collect(), (10..18).collect(), (18..24).collect()];
        let (mut a, keys) = run(&groups, 24);
        let first = track(&mut a, &keys, None);
        assert_eq!(ids(&a), vec![(0, Status::New), (1, Status::New), (2, Status::New)]);
        // The same themes found in another order, plus units of a new document.
        let groups = vec![(10..18).collect(), (0..10).chain(24..30).collect(), (18..24).collect(), (30..36).collect()];
        let (mut b, keys) = run(&groups, 36);
        let saved = track(&mut b, &keys, Some(&first));
        assert_eq!(
            ids(&b),
            vec![(1, Status::Persisting), (0, Status::Persisting), (2, Status::Persisting), (3, Status::New)]
        );
        // Found now as "found 0", it keeps the label it had: "found 1".
        assert_eq!(b.themes[0].label, "found 1", "the label found first stays");
        assert!(b.vanished.is_empty());
        assert_eq!(saved.next_id, 4);
        // The same run again: the statuses of the change stand.
        let (mut c, keys) = run(&groups, 36);
        let again = track(&mut c, &keys, Some(&saved));
        assert_eq!(ids(&c), ids(&b));
        assert_eq!(again, saved);
    }

    #[test]
    fn merged_split_vanished_and_ids_never_reused() {
        let groups = vec![(0..10).collect(), (10..20).collect(), (20..30).collect(), (30..36).collect()];
        let (mut a, keys) = run(&groups, 40);
        let first = track(&mut a, &keys, None);
        // 0 and 1 merge; 2 splits in two halves; 3 is gone (its units outliers).
        let groups = vec![(0..20).collect(), (20..25).collect(), (25..30).collect()];
        let (mut b, keys) = run(&groups, 40);
        let second = track(&mut b, &keys, Some(&first));
        assert_eq!(ids(&b), vec![(4, Status::Merged), (5, Status::Split), (6, Status::Split)]);
        assert_eq!(b.themes[0].from, vec![0, 1]);
        assert_eq!(b.themes[1].from, vec![2]);
        assert_eq!(b.vanished.iter().map(|v| v.id).collect::<Vec<_>>(), vec![3]);
        // A third run brings a theme like the vanished 3 back by its units: new id.
        let groups = vec![(0..20).collect(), (30..36).collect()];
        let (mut c, keys) = run(&groups, 40);
        track(&mut c, &keys, Some(&second));
        assert_eq!(ids(&c), vec![(4, Status::Persisting), (7, Status::New)]);
        assert_eq!(c.vanished.iter().map(|v| v.id).collect::<Vec<_>>(), vec![5, 6]);
    }

    #[test]
    fn a_theme_of_new_units_takes_over_by_centroid() {
        let (mut a, keys) = run(&[(0..10).collect(), (10..20).collect()], 20);
        let first = track(&mut a, &keys, None);
        // Document changed: all its units are new, the themes the same directions.
        let (mut b, _) = run(&[(0..10).collect(), (10..20).collect()], 20);
        let keys: Vec<UnitKey> =
            (0..20).map(|i| UnitKey::new("d", i * 10, i * 10 + 5, &format!("changed {i}"))).collect();
        track(&mut b, &keys, Some(&first));
        assert_eq!(ids(&b), vec![(0, Status::Persisting), (1, Status::Persisting)]);
    }
}
