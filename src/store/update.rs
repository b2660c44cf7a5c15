//! Bringing a store up to date with documents read now: which are new,
//! changed (by content hash), unchanged or gone; what to embed; and the
//! chunked commits that let an interrupted run keep its work.
//!
//! `plan` decides and touches nothing; `apply` embeds and writes, each
//! passage with its sentences (`corpus::sentences::passage_sentences`)
//! and their vectors; `cut_stored` does the same for passages stored
//! without their sentences (an index from before format 4). A stored
//! document is gone when its file is gone, or when its file was read whole
//! in this run without yielding it (a record removed from a `.jsonl` file,
//! a file emptied); gone documents are removed only when pruning is asked
//! for. A file that cannot be looked at (a folder on its path unreadable)
//! or was read only in part (a bad record skipped) is never taken for
//! gone. Documents read from stdin have no file: they stay until replaced.
//! A file is identified by its canonical path, so one read under a new
//! spelling keeps the names its documents were stored under.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{NewDoc, NewPassage, NewSentence, Store, StoreError, StoredDoc};
use crate::corpus::claims::passage_claims;
use crate::corpus::meta::DocMeta;
use crate::corpus::sentences::{is_whole, passage_sentences, SentenceVectors};
use crate::corpus::{Passage, ReadDocuments};
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
    /// Unchanged text, but a new date, source, title or URL (an index from
    /// before format 3, or a field named now): stored without embedding again.
    pub retagged: Vec<String>,
    /// Stored documents not named in this run (left as they are).
    pub untouched: usize,
    /// Stored documents no longer in their file (the file is gone, or was
    /// read now without them), left because pruning was not asked for.
    pub prunable: usize,
    /// Names given more than once (indexed once).
    pub duplicates: Vec<String>,
    /// Stored documents whose file could not be looked at (a folder on
    /// the way cannot be read): never taken for gone; with the reason.
    #[serde(skip)]
    pub unknown: Vec<(String, String)>,
    /// Files read now under another spelling than they are stored under
    /// (`./a.txt` for `a.txt`, an absolute path): the stored name is kept.
    /// Pairs of (as read now, as stored).
    #[serde(skip)]
    pub respelled: Vec<(String, String)>,
    /// The name each read document is stored under: its own, or the one
    /// its file's documents were first stored under.
    #[serde(skip)]
    pub names: Vec<String>,
    /// Read documents (indices) to embed and store, in reading order.
    #[serde(skip)]
    pub todo: Vec<usize>,
    /// Read documents (indices) whose date, source, title or URL alone changed.
    #[serde(skip)]
    pub retag: Vec<usize>,
}

impl Plan {
    /// Whether the store changes at all.
    pub fn changes(&self) -> bool {
        !self.todo.is_empty() || !self.removed.is_empty() || !self.retag.is_empty()
    }

    /// Whether the passages or their vectors change (the graph must follow).
    pub fn changes_passages(&self) -> bool {
        !self.todo.is_empty() || !self.removed.is_empty()
    }
}

/// Whether a stored document's file is still there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    Present,
    /// Not there (no such file, or a folder on its path is now a file).
    Gone,
    /// Cannot tell (permission denied on a folder on its path, a link
    /// loop, an I/O error): never taken for gone. Holds why.
    Unknown(String),
}

/// Asks the file system about a stored source path.
pub fn source_state(path: &std::path::Path) -> SourceState {
    match std::fs::metadata(path) {
        Ok(_) => SourceState::Present,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
            SourceState::Gone
        }
        Err(e) => SourceState::Unknown(e.to_string()),
    }
}

/// Decides what to do. `sources[i]` is read document i's file as the store
/// records it (canonical path) or `None` for stdin; `read_whole` holds the
/// files (as recorded) read whole in this run, so that a stored document
/// of one of them not read now is no longer in it; `state` tells whether a
/// stored source file is still there.
/// `damaged` names stored documents with a damaged vector, which are
/// stored again when read.
pub fn plan(
    read: &ReadDocuments,
    sources: &[Option<String>],
    read_whole: &HashSet<String>,
    stored: &[StoredDoc],
    prune: bool,
    state: &dyn Fn(&str) -> SourceState,
    damaged: &HashSet<&str>,
) -> Plan {
    let stored_by_name: HashMap<&str, &StoredDoc> = stored.iter().map(|d| (d.name.as_str(), d)).collect();
    let mut plan = Plan::default();
    let (names, respelled) = stored_names(read, sources, stored);
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, doc) in read.documents.iter().enumerate() {
        let name = names[i].as_str();
        if !seen.insert(name) {
            plan.duplicates.push(name.to_string());
            continue;
        }
        match stored_by_name.get(name) {
            None => {
                plan.added.push(name.to_string());
                plan.todo.push(i);
            }
            Some(s) if s.hash == doc.hash && s.metadata == doc.metadata => {
                if damaged.contains(name) {
                    plan.repaired.push(name.to_string());
                    plan.todo.push(i);
                } else if s.meta != doc.meta {
                    plan.retagged.push(name.to_string());
                    plan.retag.push(i);
                } else {
                    plan.kept += 1;
                }
            }
            Some(_) => {
                plan.replaced.push(name.to_string());
                plan.todo.push(i);
            }
        }
    }
    let mut gone: Vec<String> = Vec::new();
    for s in stored {
        if seen.contains(s.name.as_str()) {
            continue;
        }
        let Some(src) = &s.source else {
            plan.untouched += 1;
            continue;
        };
        if read_whole.contains(src.as_str()) {
            gone.push(s.name.clone());
            continue;
        }
        match state(src) {
            SourceState::Gone => gone.push(s.name.clone()),
            SourceState::Present => plan.untouched += 1,
            SourceState::Unknown(why) => {
                plan.unknown.push((s.name.clone(), format!("{src}: {why}")));
                plan.untouched += 1;
            }
        }
    }
    plan.names = names;
    plan.respelled = respelled;
    gone.sort();
    if prune {
        plan.removed = gone;
    } else {
        plan.prunable = gone.len();
        plan.untouched += gone.len();
    }
    plan
}

/// The names read documents are stored under. A file is one document
/// (or one a record) whatever it is called, so a file read now under
/// another spelling than its stored documents' (`seeds/a.txt` then
/// `/home/me/seeds/a.txt`) keeps their names: the first spelling wins.
/// A document is named by its file's spelling followed by a suffix
/// (`:ID` for a record); a stored document of the same file is the one
/// whose name ends with the same suffix after one common stored spelling.
fn stored_names(
    read: &ReadDocuments,
    sources: &[Option<String>],
    stored: &[StoredDoc],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut names: Vec<String> = read.documents.iter().map(|d| d.id.clone()).collect();
    let mut respelled = Vec::new();
    let mut stored_by_source: HashMap<&str, HashSet<&str>> = HashMap::new();
    for s in stored {
        if let Some(src) = &s.source {
            stored_by_source.entry(src.as_str()).or_default().insert(s.name.as_str());
        }
    }
    // Read documents by source, in reading order.
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (i, src) in sources.iter().enumerate() {
        let Some(src) = src else { continue };
        let g = *group_of.entry(src.as_str()).or_insert_with(|| {
            groups.push((src.as_str(), Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(i);
    }
    for (src, members) in groups {
        let Some(stored_names) = stored_by_source.get(src) else { continue };
        if members.iter().any(|&i| stored_names.contains(read.documents[i].id.as_str())) {
            continue;
        }
        // Each member's suffix after its file's spelling as read now.
        let suffixes: Option<Vec<&str>> = members
            .iter()
            .map(|&i| {
                let doc = &read.documents[i];
                let spelling = doc.source.as_ref()?.to_str()?;
                doc.id.strip_prefix(spelling)
            })
            .collect();
        let Some(suffixes) = suffixes else { continue };
        // Candidate stored spellings: from the first member's suffix;
        // the one that names the most members wins.
        let mut best: Option<(usize, &str)> = None;
        for candidate in stored_names.iter().filter_map(|n| n.strip_suffix(suffixes[0])).filter(|p| !p.is_empty()) {
            let hits = suffixes.iter().filter(|x| stored_names.contains(format!("{candidate}{x}").as_str())).count();
            if best.is_none_or(|(h, c)| hits > h || (hits == h && candidate < c)) {
                best = Some((hits, candidate));
            }
        }
        let Some((_, spelling)) = best else { continue };
        let first = members[0];
        respelled.push((read.documents[first].id.clone(), format!("{spelling}{}", suffixes[0])));
        for (&i, x) in members.iter().zip(&suffixes) {
            names[i] = format!("{spelling}{x}");
        }
    }
    (names, respelled)
}

/// Where the vectors of the documents to store come from.
#[derive(Clone, Copy)]
pub enum Vectors<'a> {
    /// Embedded now, chunk by chunk, passages and their sentences.
    Embed(&'a dyn Embedder),
    /// Computed elsewhere: row i belongs to passage i of the documents
    /// read. Their sentences are embedded with the embedder, when one is
    /// given; without one they are stored uncut (readers embed them).
    Given(&'a ndarray::Array2<f32>, Option<&'a dyn Embedder>),
}

impl<'a> Vectors<'a> {
    /// What embeds the sentences, if anything does.
    pub fn sentence_embedder(&self) -> Option<&'a dyn Embedder> {
        match *self {
            Vectors::Embed(e) => Some(e),
            Vectors::Given(_, e) => e,
        }
    }
}

/// The sentences of `passages` (cut as everywhere else), the claims inside
/// them (`corpus::claims`), and their vectors: a sentence that is its
/// whole passage shares the passage's vector (`passage_vectors[i]`, when
/// known) and is stored without one; the other sentences and every claim
/// are embedded, each distinct text once. `progress` counts every text
/// to embed (`texts_to_embed`).
fn embed_sentences(
    passages: &[&Passage],
    passage_vectors: Option<&ndarray::Array2<f32>>,
    embedder: &dyn Embedder,
    progress: &mut dyn FnMut(usize),
) -> Result<Embedded, EmbedError> {
    let cuts: Vec<Vec<(usize, usize)>> = passages.iter().map(|p| passage_sentences(p)).collect();
    let claims: Vec<Vec<(usize, (usize, usize))>> =
        passages.iter().zip(&cuts).map(|(p, cut)| passage_claims(p, cut)).collect();
    let mut known = SentenceVectors::new(embedder.dim());
    if let Some(vectors) = passage_vectors {
        for (i, (p, cut)) in passages.iter().zip(&cuts).enumerate() {
            if is_whole(p, cut) {
                known.insert(&p.text, row(vectors, i));
            }
        }
    }
    let mut needed: Vec<&str> = passages
        .iter()
        .zip(&cuts)
        .filter(|(p, cut)| !is_whole(p, cut))
        .flat_map(|(p, cut)| cut.iter().map(|&r| p.slice(r)))
        .collect();
    needed.extend(passages.iter().zip(&claims).flat_map(|(p, c)| c.iter().map(|&(_, r)| p.slice(r))));
    let embedded = known.embed_missing(embedder, &needed, progress)?;
    // Texts known already or given twice are done too.
    progress(needed.len() - embedded);
    Ok(Embedded { cuts, claims, known, embedded })
}

/// The sentences of some passages, embedded (`embed_sentences`).
struct Embedded {
    /// Each passage's sentences, in document offsets.
    cuts: Vec<Vec<(usize, usize)>>,
    /// Each passage's claims: their sentence and document offsets.
    claims: Vec<Vec<(usize, (usize, usize))>>,
    /// Their vectors, by text.
    known: SentenceVectors,
    /// Texts embedded.
    embedded: usize,
}

impl Embedded {
    /// The rows to store for passage `i` of those embedded.
    fn rows<'a>(&'a self, i: usize, p: &Passage) -> Vec<NewSentence<'a>> {
        let cut = &self.cuts[i];
        let whole = is_whole(p, cut);
        let sentences = cut.iter().map(|&(start, end)| NewSentence {
            start,
            end,
            claim_of: None,
            vector: (!whole).then(|| self.known.get(p.slice((start, end)))),
        });
        let claims = self.claims[i].iter().map(|&(s, (start, end))| NewSentence {
            start,
            end,
            claim_of: Some(s),
            vector: Some(self.known.get(p.slice((start, end)))),
        });
        sentences.chain(claims).collect()
    }
}

/// Texts `embed_sentences` embeds for a passage: its sentences unless it
/// is one, and every claim inside them.
fn texts_to_embed(p: &Passage) -> usize {
    let cut = passage_sentences(p);
    let claims = passage_claims(p, &cut).len();
    claims + if is_whole(p, &cut) { 0 } else { cut.len() }
}

/// What `apply` counts its progress in: the passages to store, plus their
/// sentences and claims to embed (`texts_to_embed`) when sentences
/// are embedded.
pub fn work(read: &ReadDocuments, plan: &Plan, vectors: Vectors) -> usize {
    let by_doc = read.by_document();
    let passages = plan.todo.iter().flat_map(|&i| by_doc[i].clone()).map(|p| &read.passages[p]);
    if vectors.sentence_embedder().is_none() {
        return passages.count();
    }
    passages.map(|p| 1 + texts_to_embed(p)).sum()
}

/// What `apply` stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Passages stored (embedded now, or with their given vectors).
    pub passages: usize,
    /// Sentence texts embedded for them.
    pub sentences: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// Embeds the planned documents (or takes their given vectors) and writes
/// them, each passage with its sentences and their vectors, and the
/// removals, in commits of about `commit_every` passages: each commit is
/// one transaction, so a run killed at any point leaves a consistent store
/// holding every chunk committed so far (never a passage without the
/// sentences it was cut into), and the next run embeds only what is
/// missing. Progress counts `work`.
pub fn apply(
    store: &mut Store,
    read: &ReadDocuments,
    sources: &[Option<String>],
    plan: &Plan,
    vectors: Vectors,
    commit_every: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<Applied, UpdateError> {
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
    let mut done = Applied::default();
    let sentence_embedder = vectors.sentence_embedder();
    for chunk in &chunks {
        let passages: Vec<usize> = chunk.iter().flat_map(|&i| by_doc[i].clone()).collect();
        let texts: Vec<&str> = passages.iter().map(|&p| read.passages[p].text.as_str()).collect();
        let vectors = match vectors {
            Vectors::Embed(embedder) => embedder.embed(&texts, progress)?,
            Vectors::Given(all, _) => {
                progress(texts.len());
                all.select(ndarray::Axis(0), &passages)
            }
        };
        let sentences = match sentence_embedder {
            Some(embedder) => {
                let refs: Vec<&Passage> = passages.iter().map(|&p| &read.passages[p]).collect();
                let e = embed_sentences(&refs, Some(&vectors), embedder, progress)?;
                done.sentences += e.embedded;
                Some(e)
            }
            None => None,
        };
        let mut next = 0;
        let docs: Vec<NewDoc> = chunk
            .iter()
            .map(|&i| {
                let doc = &read.documents[i];
                NewDoc {
                    name: &plan.names[i],
                    source: sources[i].clone(),
                    hash: &doc.hash,
                    bytes: doc.bytes,
                    metadata: doc.metadata.as_deref(),
                    meta: &doc.meta,
                    passages: by_doc[i]
                        .clone()
                        .map(|p| {
                            let passage = &read.passages[p];
                            let vector = row(&vectors, next);
                            let sentences = sentences.as_ref().map(|e| e.rows(next, passage));
                            next += 1;
                            NewPassage {
                                ordinal: passage.ordinal,
                                start: passage.start,
                                end: passage.end,
                                windowed: passage.windowed,
                                text: &passage.text,
                                vector,
                                sentences,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        store.write(&docs, &removals)?;
        removals.clear();
        done.passages += texts.len();
    }
    store.write(&[], &removals)?;
    let retag: Vec<(&str, &DocMeta)> =
        plan.retag.iter().map(|&i| (plan.names[i].as_str(), &read.documents[i].meta)).collect();
    store.set_meta(&retag)?;
    Ok(done)
}

/// What `cut_stored` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cut {
    /// Stored passages now stored with their sentences.
    pub passages: usize,
    /// Sentence texts embedded for them.
    pub sentences: usize,
}

/// Cuts the stored passages that have no stored sentences (indexed before
/// format 4, or imported without a model) into sentences, embeds them and
/// stores them, in commits of about `commit_every` passages (a killed run
/// keeps what it committed). The passages and the graph do not change.
/// Progress counts the passages looked at (`Store::uncut_count`).
pub fn cut_stored(
    store: &mut Store,
    embedder: &dyn Embedder,
    commit_every: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<Cut, UpdateError> {
    let mut done = Cut::default();
    let mut after = 0;
    loop {
        let batch = store.uncut_passages(after, commit_every.max(1))?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let refs: Vec<&Passage> = batch.iter().map(|u| &u.passage).collect();
        // Their vectors are not needed: a whole-passage sentence is stored without one.
        let e = embed_sentences(&refs, None, embedder, &mut |_| {})?;
        let rows: Vec<(i64, Vec<NewSentence>)> = batch
            .iter()
            .enumerate()
            .filter(|(i, _)| !e.cuts[*i].is_empty())
            .map(|(i, u)| (u.id, e.rows(i, &u.passage)))
            .collect();
        store.add_sentences(&rows)?;
        done.passages += rows.len();
        done.sentences += e.embedded;
        progress(batch.len());
    }
    Ok(done)
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
            meta: Default::default(),
        }
    }

    fn whole(files: &[&str]) -> HashSet<String> {
        files.iter().map(|f| f.to_string()).collect()
    }

    fn present(_: &str) -> SourceState {
        SourceState::Present
    }

    #[test]
    fn new_changed_kept_and_duplicate_documents() {
        let r = read(&[("a", "same"), ("b", "new text"), ("c", "fresh"), ("a", "same")]);
        let sources = vec![None; 4];
        let p = plan(
            &r,
            &sources,
            &whole(&[]),
            &[stored("a", "same", None), stored("b", "old text", None)],
            false,
            &present,
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
        let p = plan(&r, &[None, None], &whole(&[]), &stored, false, &|_| SourceState::Present, &HashSet::from(["b"]));
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
        let state = |p: &str| if p == "/x/old.txt" { SourceState::Gone } else { SourceState::Present };
        let read_now = whole(&["/x/notes.jsonl"]);
        let keep = plan(&r, &sources, &read_now, &store, false, &state, &HashSet::new());
        assert!(keep.removed.is_empty());
        assert_eq!((keep.kept, keep.prunable, keep.untouched), (1, 2, 4));
        assert!(!keep.changes());
        let prune = plan(&r, &sources, &read_now, &store, true, &state, &HashSet::new());
        assert_eq!(prune.removed, vec!["notes.jsonl#2", "old.txt"]);
        assert_eq!((prune.prunable, prune.untouched), (0, 2));
        assert!(prune.changes());
        // A file read only in part (a bad record skipped) is not read
        // whole: its stored records not read now stay.
        let partial = plan(&r, &sources, &whole(&[]), &store, true, &state, &HashSet::new());
        assert_eq!(partial.removed, vec!["old.txt"]);
    }

    #[test]
    fn a_file_that_cannot_be_looked_at_is_never_gone() {
        let r = read(&[("a.txt", "text")]);
        let sources = vec![Some("/x/a.txt".to_string())];
        let store = [stored("a.txt", "text", Some("/x/a.txt")), stored("sub/b.txt", "t", Some("/x/sub/b.txt"))];
        let denied = |p: &str| {
            if p.starts_with("/x/sub/") {
                SourceState::Unknown("Permission denied (os error 13)".into())
            } else {
                SourceState::Present
            }
        };
        let p = plan(&r, &sources, &whole(&["/x/a.txt"]), &store, true, &denied, &HashSet::new());
        assert!(p.removed.is_empty(), "{:?}", p.removed);
        assert_eq!(p.unknown, vec![("sub/b.txt".to_string(), "/x/sub/b.txt: Permission denied (os error 13)".into())]);
        assert_eq!(p.untouched, 1);
        // The real file system: a missing file is gone, one under a file is too.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), "x").unwrap();
        assert_eq!(source_state(&dir.path().join("f.txt")), SourceState::Present);
        assert_eq!(source_state(&dir.path().join("nope.txt")), SourceState::Gone);
        assert_eq!(source_state(&dir.path().join("f.txt/inner.txt")), SourceState::Gone);
    }

    #[test]
    fn a_file_read_under_a_new_spelling_keeps_its_stored_names() {
        let doc = |id: &str, source: &str, text: &str| Document::new(id, Some(source.into()), text.to_string());
        let mut r = read(&[]);
        r.documents = vec![
            doc("/abs/seeds/a.txt", "/abs/seeds/a.txt", "same"),
            doc("/abs/seeds/c.jsonl:1", "/abs/seeds/c.jsonl", "one"),
            doc("/abs/seeds/c.jsonl:a:2", "/abs/seeds/c.jsonl", "two, changed"),
            doc("/abs/seeds/c.jsonl:3", "/abs/seeds/c.jsonl", "three, new"),
        ];
        let sources: Vec<Option<String>> =
            ["/abs/seeds/a.txt", "/abs/seeds/c.jsonl", "/abs/seeds/c.jsonl", "/abs/seeds/c.jsonl"]
                .iter()
                .map(|s| Some(s.to_string()))
                .collect();
        let store = [
            stored("seeds/a.txt", "same", Some("/abs/seeds/a.txt")),
            stored("seeds/c.jsonl:1", "one", Some("/abs/seeds/c.jsonl")),
            stored("seeds/c.jsonl:a:2", "two", Some("/abs/seeds/c.jsonl")),
        ];
        let read_now = whole(&["/abs/seeds/a.txt", "/abs/seeds/c.jsonl"]);
        let p = plan(&r, &sources, &read_now, &store, false, &present, &HashSet::new());
        assert_eq!(p.names, ["seeds/a.txt", "seeds/c.jsonl:1", "seeds/c.jsonl:a:2", "seeds/c.jsonl:3"]);
        assert_eq!((p.kept, p.prunable), (2, 0));
        assert_eq!(p.replaced, ["seeds/c.jsonl:a:2"]);
        assert_eq!(p.added, ["seeds/c.jsonl:3"]);
        assert_eq!(p.respelled.len(), 2);
    }
}
