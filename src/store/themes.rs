//! The last themes run of an index, per kind of unit, so that the next run
//! can give persisting themes their ids back (`themes::stable`).
//!
//! Owns the table `theme_runs` (`unit` TEXT PRIMARY KEY: "sentence" or
//! "passage"; `saved` TEXT: the `SavedRun` as JSON; `saved_at` INTEGER:
//! seconds since 1970; `generation` INTEGER: the index generation it was
//! made from), created with CREATE TABLE IF NOT EXISTS by the first save,
//! so indexes made before it read as having no saved run. Saving changes
//! neither the documents nor the generation, so the HNSW graph stays valid.

use std::path::Path;

use rusqlite::{params, OptionalExtension};

use super::{NewIndex, Store, StoreError};
use crate::themes::stable::SavedRun;

const TABLE: &str = "CREATE TABLE IF NOT EXISTS theme_runs (
    unit       TEXT PRIMARY KEY,
    saved      TEXT NOT NULL,
    saved_at   INTEGER NOT NULL,
    generation INTEGER NOT NULL
)";

impl Store {
    /// Opens an existing index as its writer, only to save themes: the
    /// same lock as `open_write`, and the same refusals.
    pub fn open_to_save_themes(dir: &Path) -> Result<Store, StoreError> {
        let m = Store::open_read(dir)?.manifest().clone();
        let new = NewIndex {
            model: m.model,
            model_fingerprint: m.model_fingerprint,
            dim: m.dim,
            split: m.split,
            params: m.params,
        };
        Ok(Store::open_write(dir, &new)?.0)
    }

    /// The last saved run for units of `unit` (none if never saved). A
    /// saved run this motif cannot read is `Corrupt`.
    pub fn saved_themes(&self, unit: &str) -> Result<Option<SavedRun>, StoreError> {
        let exists: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'theme_runs'", [], |r| {
                r.get(0)
            })
            .map_err(self.sql())?;
        if exists == 0 {
            return Ok(None);
        }
        let text: Option<String> = self
            .conn
            .query_row("SELECT saved FROM theme_runs WHERE unit = ?1", params![unit], |r| r.get(0))
            .optional()
            .map_err(self.sql())?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Corrupt {
                path: self.db_path().display().to_string(),
                why: format!("the saved {unit} themes are not readable: {e}"),
            })
        })
        .transpose()
    }

    /// Saves `run` as the last run for units of `unit` (the store must be
    /// the writer).
    pub fn save_themes(&mut self, unit: &str, run: &SavedRun) -> Result<(), StoreError> {
        let json = serde_json::to_string(run).expect("a saved run serialises");
        let generation = self.manifest.generation as i64;
        let path = self.db_path();
        let sql = |e| super::sql_error(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute_batch(TABLE).map_err(sql)?;
        tx.execute(
            "INSERT OR REPLACE INTO theme_runs (unit, saved, saved_at, generation) VALUES (?1, ?2, ?3, ?4)",
            params![unit, json, super::now(), generation],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_run_reads_back_and_an_old_index_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let idx = dir.path().join("idx");
        let new = NewIndex {
            model: "hash".into(),
            model_fingerprint: "fp".into(),
            dim: 3,
            split: "paragraph".into(),
            params: Default::default(),
        };
        drop(Store::open_write(&idx, &new).unwrap());
        assert_eq!(Store::open_read(&idx).unwrap().saved_themes("sentence").unwrap(), None);
        let run = SavedRun {
            next_id: 3,
            themes: Vec::new(),
            docs: vec!["a.txt".into()],
            units: vec![(0, 0, 5, 7, Some(2))],
            vanished: Vec::new(),
        };
        let mut w = Store::open_to_save_themes(&idx).unwrap();
        w.save_themes("sentence", &run).unwrap();
        assert!(matches!(Store::open_to_save_themes(&idx), Err(StoreError::Locked { .. })), "one writer at a time");
        drop(w);
        let r = Store::open_read(&idx).unwrap();
        assert_eq!(r.saved_themes("sentence").unwrap(), Some(run));
        assert_eq!(r.saved_themes("passage").unwrap(), None);
    }
}
