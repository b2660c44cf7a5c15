//! Bringing a store up to date with documents read now: which are new,
//! changed (by content hash), unchanged or gone; what to embed; and the
//! chunked commits that let an interrupted run keep its work.
//!
//! `plan` decides and touches nothing; `apply` embeds and writes. A stored
//! document is gone when its file is gone, or when its file was read in
//! this run without yielding it (a record removed from a `.jsonl` file);
//! gone documents are removed only when pruning is asked for. Documents
//! read from stdin have no file: they stay until replaced.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{NewDoc, NewPassage, Store, StoreError, StoredDoc};
use crate::corpus::ReadDocuments;
use crate::embed::{EmbedError, Embedder};
use crate::matrix::row;

/// What a run changes, by document name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    /// Unchanged, but stored with a damaged vector: embedded again.
    pub repaired: Vec<String>,
    pub removed: Vec<String>,
    /// Read now and unchanged.
    pub kept: usize,
    /// Stored documents not named in this run (left as they are).
    pub untouched: usize,
    /// Stored documents whose file is gone, left because pruning was not asked for.
    pub prunable: usize,
    /// Names given more than once (indexed once).
    pub duplicates: Vec<String>,
    /// Read documents (indices) to embed and store, in reading order.
    #[serde(skip)]
    pub todo: Vec<usize>,
}

impl Plan {
    /// Whether the store changes at all.
    pub fn changes(&self) -> bool {
        !self.todo.is_empty() || !self.removed.is_empty()
    }
}

/// Decides what to do. `sources[i]` is read document i's file as the store
/// records it (canonical path) or `None` for stdin; `exists` tells whether
/// a stored source file is still there; `damaged` names stored documents
/// with a damaged vector, which are stored again when read.
pub fn plan(
    read: &ReadDocuments,
    sources: &[Option<String>],
    stored: &[StoredDoc],
    prune: bool,
    exists: &dyn Fn(&str) -> bool,
    damaged: &HashSet<&str>,
) -> Plan {
    let stored_by_name: HashMap<&str, &StoredDoc> = stored.iter().map(|d| (d.name.as_str(), d)).collect();
    let read_sources: HashSet<&str> = sources.iter().flatten().map(String::as_str).collect();
    let mut plan = Plan::default();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, doc) in read.documents.iter().enumerate() {
        if !seen.insert(doc.id.as_str()) {
            plan.duplicates.push(doc.id.clone());
            continue;
        }
        match stored_by_name.get(doc.id.as_str()) {
            None => {
                plan.added.push(doc.id.clone());
                plan.todo.push(i);
            }
            Some(s) if s.hash == doc.hash && s.metadata == doc.metadata => {
                if damaged.contains(doc.id.as_str()) {
                    plan.repaired.push(doc.id.clone());
                    plan.todo.push(i);
                } else {
                    plan.kept += 1;
                }
            }
            Some(_) => {
                plan.replaced.push(doc.id.clone());
                plan.todo.push(i);
            }
        }
    }
    let mut gone: Vec<String> = Vec::new();
    for s in stored {
        if seen.contains(s.name.as_str()) {
            continue;
        }
        match &s.source {
            Some(src) if !exists(src) || read_sources.contains(src.as_str()) => gone.push(s.name.clone()),
            _ => plan.untouched += 1,
        }
    }
    gone.sort();
    if prune {
        plan.removed = gone;
    } else {
        plan.prunable = gone.len();
        plan.untouched += gone.len();
    }
    plan
}

/// Where the vectors of the documents to store come from.
#[derive(Clone, Copy)]
pub enum Vectors<'a> {
    /// Embedded now, chunk by chunk.
    Embed(&'a dyn Embedder),
    /// Computed elsewhere: row i belongs to passage i of the documents read.
    Given(&'a ndarray::Array2<f32>),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// Embeds the planned documents (or takes their given vectors) and writes
/// them, with the removals, in commits of about `commit_every` passages:
/// each commit is one transaction, so a run killed at any point leaves a
/// consistent store holding every chunk committed so far, and the next run
/// embeds only what is missing. Returns the number of passages stored.
pub fn apply(
    store: &mut Store,
    read: &ReadDocuments,
    sources: &[Option<String>],
    plan: &Plan,
    vectors: Vectors,
    commit_every: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<usize, UpdateError> {
    let by_doc = read.by_document();
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut size = 0;
    for &i in &plan.todo {
        if chunks.is_empty() || size >= commit_every.max(1) {
            chunks.push(Vec::new());
            size = 0;
        }
        chunks.last_mut().expect("just pushed").push(i);
        size += by_doc[i].len();
    }
    let mut removals = plan.removed.clone();
    let mut embedded = 0;
    for chunk in &chunks {
        let passages: Vec<usize> = chunk.iter().flat_map(|&i| by_doc[i].clone()).collect();
        let texts: Vec<&str> = passages.iter().map(|&p| read.passages[p].text.as_str()).collect();
        let vectors = match vectors {
            Vectors::Embed(embedder) => embedder.embed(&texts, progress)?,
            Vectors::Given(all) => {
                progress(texts.len());
                all.select(ndarray::Axis(0), &passages)
            }
        };
        let mut next = 0;
        let docs: Vec<NewDoc> = chunk
            .iter()
            .map(|&i| {
                let doc = &read.documents[i];
                NewDoc {
                    name: &doc.id,
                    source: sources[i].clone(),
                    hash: &doc.hash,
                    bytes: doc.bytes,
                    metadata: doc.metadata.as_deref(),
                    passages: by_doc[i]
                        .clone()
                        .map(|p| {
                            let passage = &read.passages[p];
                            let vector = row(&vectors, next);
                            next += 1;
                            NewPassage {
                                ordinal: passage.ordinal,
                                start: passage.start,
                                end: passage.end,
                                windowed: passage.windowed,
                                text: &passage.text,
                                vector,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        store.write(&docs, &removals)?;
        removals.clear();
        embedded += texts.len();
    }
    store.write(&[], &removals)?;
    Ok(embedded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::ingest::Document;

    fn read(docs: &[(&str, &str)]) -> ReadDocuments {
        ReadDocuments::one_passage_each(docs)
    }

    fn stored(name: &str, text: &str, source: Option<&str>) -> StoredDoc {
        let hash = Document::new(name, None, text.to_string()).hash;
        StoredDoc {
            name: name.into(),
            source: source.map(String::from),
            hash,
            bytes: text.len(),
            passages: 1,
            indexed_at: 0,
            metadata: None,
        }
    }

    #[test]
    fn new_changed_kept_and_duplicate_documents() {
        let r = read(&[("a", "same"), ("b", "new text"), ("c", "fresh"), ("a", "same")]);
        let sources = vec![None; 4];
        let p = plan(
            &r,
            &sources,
            &[stored("a", "same", None), stored("b", "old text", None)],
            false,
            &|_| true,
            &HashSet::new(),
        );
        assert_eq!(p.added, vec!["c"]);
        assert_eq!(p.replaced, vec!["b"]);
        assert_eq!((p.kept, p.untouched, p.prunable), (1, 0, 0));
        assert_eq!(p.duplicates, vec!["a"]);
        assert_eq!(p.todo, vec![1, 2]);
        assert!(p.changes());
    }

    #[test]
    fn unchanged_documents_with_damaged_vectors_are_stored_again() {
        let r = read(&[("a", "same"), ("b", "same too")]);
        let stored = [stored("a", "same", None), stored("b", "same too", None)];
        let p = plan(&r, &[None, None], &stored, false, &|_| true, &HashSet::from(["b"]));
        assert_eq!((p.kept, p.repaired.clone(), p.todo.clone()), (1, vec!["b".to_string()], vec![1]));
        assert!(p.changes());
    }

    #[test]
    fn gone_files_and_records_are_pruned_only_when_asked() {
        let r = read(&[("notes.jsonl#1", "kept record")]);
        let sources = vec![Some("/x/notes.jsonl".to_string())];
        let store = [
            stored("notes.jsonl#1", "kept record", Some("/x/notes.jsonl")),
            // A record removed from a file read in this run: gone.
            stored("notes.jsonl#2", "removed record", Some("/x/notes.jsonl")),
            // Its file deleted: gone.
            stored("old.txt", "t", Some("/x/old.txt")),
            // Not named in this run, file still there: untouched.
            stored("other.txt", "t", Some("/x/other.txt")),
            // From stdin: never gone.
            stored("-", "t", None),
        ];
        let exists = |p: &str| p != "/x/old.txt";
        let keep = plan(&r, &sources, &store, false, &exists, &HashSet::new());
        assert!(keep.removed.is_empty());
        assert_eq!((keep.kept, keep.prunable, keep.untouched), (1, 2, 4));
        assert!(!keep.changes());
        let prune = plan(&r, &sources, &store, true, &exists, &HashSet::new());
        assert_eq!(prune.removed, vec!["notes.jsonl#2", "old.txt"]);
        assert_eq!((prune.prunable, prune.untouched), (0, 2));
        assert!(prune.changes());
    }
}
