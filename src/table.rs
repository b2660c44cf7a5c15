//! Tables in files: typed columns written as Parquet (one row group per
//! chunk, so a large table streams) or as JSON lines, and read back from
//! either with the columns a caller asks for, whatever integer, string or
//! list encoding the writer chose (pyarrow, DuckDB, Spark and Ray all write
//! slightly different types for the same data). Used by `exchange` (export
//! and import), `corpus::ingest` (Parquet corpora) and `motif embed`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, FixedSizeListArray, Float32Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

/// The file formats of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Jsonl,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }
}

/// What can go wrong reading or writing a table; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a readable Parquet file ({why})")]
    NotParquet { path: String, why: String },
    #[error("{path}: cannot write: {why}")]
    Write { path: String, why: String },
    #[error("{path}: no column \"{column}\" (it has: {have})")]
    MissingColumn { path: String, column: String, have: String },
    #[error("{path}: column \"{column}\" is {found}, not {want}")]
    WrongType { path: String, column: String, found: String, want: String },
    #[error("{path}: row {row}: {message}")]
    BadValue { path: String, row: usize, message: String },
}

impl TableError {
    /// The file the error is about.
    pub fn path(&self) -> &str {
        match self {
            TableError::Io { path, .. }
            | TableError::NotParquet { path, .. }
            | TableError::Write { path, .. }
            | TableError::MissingColumn { path, .. }
            | TableError::WrongType { path, .. }
            | TableError::BadValue { path, .. } => path,
        }
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        TableError::Io { path: path.display().to_string(), source }
    }
}

/// The values of one column, for a chunk of rows.
#[derive(Debug, Clone)]
pub enum Values {
    I64(Vec<i64>),
    OptI64(Vec<Option<i64>>),
    I32(Vec<i32>),
    OptI32(Vec<Option<i32>>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    Text(Vec<String>),
    OptText(Vec<Option<String>>),
    TextList(Vec<Vec<String>>),
    /// Unix seconds, written as a UTC timestamp (in milliseconds: Parquet
    /// has no timestamp type in seconds, and readers would see an integer).
    Seconds(Vec<i64>),
    /// `dim` float32 values a row, row after row.
    Vector {
        dim: usize,
        data: Vec<f32>,
    },
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::I64(v) | Values::Seconds(v) => v.len(),
            Values::OptI64(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::OptI32(v) => v.len(),
            Values::F32(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::OptText(v) => v.len(),
            Values::TextList(v) => v.len(),
            Values::Vector { dim, data } => data.len().checked_div(*dim).unwrap_or(0),
        }
    }

    fn field(&self, name: &str) -> Field {
        let (kind, nullable) = match self {
            Values::I64(_) => (DataType::Int64, false),
            Values::OptI64(_) => (DataType::Int64, true),
            Values::I32(_) => (DataType::Int32, false),
            Values::OptI32(_) => (DataType::Int32, true),
            Values::F32(_) => (DataType::Float32, false),
            Values::Bool(_) => (DataType::Boolean, false),
            Values::Text(_) => (DataType::Utf8, false),
            Values::OptText(_) => (DataType::Utf8, true),
            Values::TextList(_) => (DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), false),
            Values::Seconds(_) => (DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
            Values::Vector { dim, .. } => (vector_type(*dim), false),
        };
        Field::new(name, kind, nullable)
    }

    fn array(&self) -> ArrayRef {
        match self {
            Values::I64(v) => Arc::new(Int64Array::from(v.clone())),
            Values::OptI64(v) => Arc::new(Int64Array::from(v.clone())),
            Values::I32(v) => Arc::new(Int32Array::from(v.clone())),
            Values::OptI32(v) => Arc::new(Int32Array::from(v.clone())),
            Values::F32(v) => Arc::new(Float32Array::from(v.clone())),
            Values::Bool(v) => Arc::new(BooleanArray::from(v.clone())),
            Values::Text(v) => Arc::new(StringArray::from_iter_values(v)),
            Values::OptText(v) => Arc::new(v.iter().map(|s| s.as_deref()).collect::<StringArray>()),
            Values::TextList(v) => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for row in v {
                    for s in row {
                        b.values().append_value(s);
                    }
                    b.append(true);
                }
                Arc::new(b.finish())
            }
            Values::Seconds(v) => {
                Arc::new(TimestampMillisecondArray::from_iter_values(v.iter().map(|s| s * 1000)).with_timezone("UTC"))
            }
            Values::Vector { dim, data } => {
                let item = Arc::new(Field::new("item", DataType::Float32, true));
                let values = Arc::new(Float32Array::from(data.clone()));
                Arc::new(FixedSizeListArray::new(item, *dim as i32, values, None))
            }
        }
    }

    fn json(&self, i: usize) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Values::I64(v) => v[i].into(),
            Values::OptI64(v) => v[i].map_or(Value::Null, Value::from),
            Values::I32(v) => v[i].into(),
            Values::OptI32(v) => v[i].map_or(Value::Null, Value::from),
            Values::F32(v) => f32_json(v[i]),
            Values::Bool(v) => v[i].into(),
            Values::Text(v) => v[i].clone().into(),
            Values::OptText(v) => v[i].clone().map_or(Value::Null, Value::from),
            Values::TextList(v) => v[i].clone().into(),
            Values::Seconds(v) => jiff::Timestamp::from_second(v[i]).map_or(Value::Null, |t| t.to_string().into()),
            Values::Vector { dim, data } => data[i * dim..(i + 1) * dim].iter().map(|&x| f32_json(x)).collect(),
        }
    }
}

/// The JSON number that reads back as exactly this f32 (serde_json would
/// widen it to f64 and print the widened digits).
fn f32_json(x: f32) -> serde_json::Value {
    let shortest: f64 = format!("{x}").parse().unwrap_or(f64::NAN);
    serde_json::Number::from_f64(shortest).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// How motif writes a vector: `dim` float32 values, DuckDB's `FLOAT[dim]`.
pub fn vector_type(dim: usize) -> DataType {
    DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), dim as i32)
}

/// A chunk of rows of one table: named columns of equal length.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<(&'static str, Values)>,
}

impl Table {
    pub fn new() -> Self {
        Table::default()
    }

    /// Adds a column (builder style).
    pub fn with(mut self, name: &'static str, values: Values) -> Self {
        self.columns.push((name, values));
        self
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, v)| v.len())
    }

    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(self.columns.iter().map(|(n, v)| v.field(n)).collect::<Vec<_>>()))
    }

    fn batch(&self, schema: SchemaRef) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self.columns.iter().map(|(_, v)| v.array()).collect();
        RecordBatch::try_new(schema, arrays).expect("columns of one table have equal lengths and their own types")
    }

    fn write_jsonl(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for i in 0..self.rows() {
            let row: serde_json::Map<String, serde_json::Value> =
                self.columns.iter().map(|(n, v)| (n.to_string(), v.json(i))).collect();
            serde_json::to_writer(&mut *out, &row)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

enum Sink<W: Write + Send> {
    Parquet(Box<ArrowWriter<W>>, SchemaRef),
    Jsonl(W),
}

/// Writes one table chunk by chunk, to a file (through a temporary file
/// renamed at `finish`, so an interrupted export never leaves a table that
/// looks whole) or to any writer.
pub struct TableWriter<W: Write + Send> {
    sink: Sink<W>,
    rows: usize,
    shown: String,
    rename: Option<(PathBuf, PathBuf)>,
}

impl TableWriter<BufWriter<File>> {
    /// `columns` gives the columns and their types (its rows are not
    /// written: an empty chunk will do); `metadata` goes into a Parquet
    /// file's key-value metadata.
    pub fn create(
        path: &Path,
        format: Format,
        columns: &Table,
        metadata: &[(String, String)],
    ) -> Result<Self, TableError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.tmp"));
        let file = File::create(&tmp).map_err(|e| TableError::io(&tmp, e))?;
        let mut w = TableWriter::new(BufWriter::new(file), format, columns, metadata, path)?;
        w.rename = Some((tmp, path.to_path_buf()));
        Ok(w)
    }
}

impl<W: Write + Send> TableWriter<W> {
    pub fn new(
        out: W,
        format: Format,
        columns: &Table,
        metadata: &[(String, String)],
        shown: &Path,
    ) -> Result<Self, TableError> {
        let shown_s = shown.display().to_string();
        let sink = match format {
            Format::Jsonl => Sink::Jsonl(out),
            Format::Parquet => {
                // In the Arrow schema too, where pyarrow, pandas and Ray read
                // it (the Parquet footer is where DuckDB reads it).
                let map: HashMap<String, String> = metadata.iter().cloned().collect();
                let schema = Arc::new(columns.schema().as_ref().clone().with_metadata(map));
                let kv = metadata.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect();
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_key_value_metadata(Some(kv))
                    .build();
                let w = ArrowWriter::try_new(out, schema.clone(), Some(props))
                    .map_err(|e| TableError::Write { path: shown_s.clone(), why: e.to_string() })?;
                Sink::Parquet(Box::new(w), schema)
            }
        };
        Ok(TableWriter { sink, rows: 0, shown: shown_s, rename: None })
    }

    pub fn write(&mut self, chunk: &Table) -> Result<(), TableError> {
        if chunk.rows() == 0 {
            return Ok(());
        }
        let shown = &self.shown;
        let fail = |why: String| TableError::Write { path: shown.clone(), why };
        match &mut self.sink {
            Sink::Parquet(w, schema) => {
                w.write(&chunk.batch(schema.clone())).map_err(|e| fail(e.to_string()))?;
                // One row group per chunk: memory stays at one chunk.
                w.flush().map_err(|e| fail(e.to_string()))?;
            }
            Sink::Jsonl(w) => chunk.write_jsonl(w).map_err(|e| fail(e.to_string()))?,
        }
        self.rows += chunk.rows();
        Ok(())
    }

    /// Closes the table; returns the rows written.
    pub fn finish(self) -> Result<usize, TableError> {
        let shown = self.shown.clone();
        let fail = |why: String| TableError::Write { path: shown.clone(), why };
        match self.sink {
            Sink::Parquet(w, _) => {
                let mut inner = w.into_inner().map_err(|e| fail(e.to_string()))?;
                inner.flush().map_err(|e| fail(e.to_string()))?;
            }
            Sink::Jsonl(mut w) => w.flush().map_err(|e| fail(e.to_string()))?,
        }
        if let Some((tmp, path)) = &self.rename {
            std::fs::rename(tmp, path).map_err(|e| TableError::io(path, e))?;
        }
        Ok(self.rows)
    }
}

// ------------------------------------------------------------ reading

/// What a caller wants read from a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Bool,
    /// Strings (integers are read as their decimal text).
    Text,
    /// A list of numbers (float32 or float64, fixed size or not).
    Vector,
}

/// A column a reader asks for, by its name or one of its other names.
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    pub name: &'a str,
    pub aliases: &'a [&'a str],
    pub kind: Kind,
    pub required: bool,
}

impl<'a> Want<'a> {
    pub const fn required(name: &'a str, kind: Kind) -> Want<'a> {
        Want { name, aliases: &[], kind, required: true }
    }
    pub const fn optional(name: &'a str, kind: Kind) -> Want<'a> {
        Want { name, aliases: &[], kind, required: false }
    }
    pub const fn or(mut self, aliases: &'a [&'a str]) -> Want<'a> {
        self.aliases = aliases;
        self
    }
}

/// Read values; `None` where the row has none (null, or no such field).
#[derive(Debug, Clone)]
pub enum Data {
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Text(Vec<Option<String>>),
    Vector(Vec<Option<Vec<f32>>>),
}

impl Data {
    fn empty(kind: Kind) -> Data {
        match kind {
            Kind::Int => Data::Int(Vec::new()),
            Kind::Bool => Data::Bool(Vec::new()),
            Kind::Text => Data::Text(Vec::new()),
            Kind::Vector => Data::Vector(Vec::new()),
        }
    }
}

/// Columns read from a table file, under the names asked for.
#[derive(Debug, Default)]
pub struct Frame {
    pub rows: usize,
    pub columns: HashMap<String, Data>,
    /// Parquet key-value metadata (empty for JSON lines).
    pub metadata: HashMap<String, String>,
}

impl Frame {
    pub fn ints(&self, name: &str) -> Option<&[Option<i64>]> {
        match self.columns.get(name) {
            Some(Data::Int(v)) => Some(v),
            _ => None,
        }
    }
    pub fn bools(&self, name: &str) -> Option<&[Option<bool>]> {
        match self.columns.get(name) {
            Some(Data::Bool(v)) => Some(v),
            _ => None,
        }
    }
    pub fn texts(&self, name: &str) -> Option<&[Option<String>]> {
        match self.columns.get(name) {
            Some(Data::Text(v)) => Some(v),
            _ => None,
        }
    }
    pub fn vectors(&self, name: &str) -> Option<&[Option<Vec<f32>>]> {
        match self.columns.get(name) {
            Some(Data::Vector(v)) => Some(v),
            _ => None,
        }
    }
}

/// Whether a file is Parquet: by its magic bytes, whatever its name.
pub fn is_parquet(path: &Path) -> bool {
    let mut head = [0u8; 4];
    File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)).is_ok() && &head == b"PAR1"
}

/// Reads the wanted columns of a Parquet or JSON-lines file, batch by
/// batch (`each` sees every batch; rows are numbered from 1 across the file).
pub fn read_batches<E: From<TableError>>(
    path: &Path,
    wants: &[Want<'_>],
    each: &mut dyn FnMut(Frame, usize) -> Result<(), E>,
) -> Result<HashMap<String, String>, E> {
    if is_parquet(path) {
        read_parquet(path, wants, each)
    } else {
        read_jsonl(path, wants, each).map(|()| HashMap::new())
    }
}

/// Reads a whole file into one frame.
pub fn read_table(path: &Path, wants: &[Want]) -> Result<Frame, TableError> {
    let mut all = Frame::default();
    for w in wants {
        all.columns.insert(w.name.to_string(), Data::empty(w.kind));
    }
    let metadata = read_batches(path, wants, &mut |frame, _| -> Result<(), TableError> {
        all.rows += frame.rows;
        for (name, data) in frame.columns {
            match (all.columns.get_mut(&name), data) {
                (Some(Data::Int(a)), Data::Int(b)) => a.extend(b),
                (Some(Data::Bool(a)), Data::Bool(b)) => a.extend(b),
                (Some(Data::Text(a)), Data::Text(b)) => a.extend(b),
                (Some(Data::Vector(a)), Data::Vector(b)) => a.extend(b),
                _ => {}
            }
        }
        Ok(())
    })?;
    // Optional columns absent from the file stay absent.
    all.columns.retain(|name, data| {
        let len = match data {
            Data::Int(v) => v.len(),
            Data::Bool(v) => v.len(),
            Data::Text(v) => v.len(),
            Data::Vector(v) => v.len(),
        };
        len == all.rows || wants.iter().any(|w| w.name == name.as_str() && w.required)
    });
    all.metadata = metadata;
    Ok(all)
}

const BATCH_ROWS: usize = 8192;

fn read_parquet<E: From<TableError>>(
    path: &Path,
    wants: &[Want],
    each: &mut dyn FnMut(Frame, usize) -> Result<(), E>,
) -> Result<HashMap<String, String>, E> {
    let shown = path.display().to_string();
    let not_parquet = |why: String| TableError::NotParquet { path: shown.clone(), why };
    let file = File::open(path).map_err(|e| TableError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| not_parquet(e.to_string()))?;
    let metadata: HashMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().filter_map(|k| Some((k.key.clone(), k.value.clone()?))).collect())
        .unwrap_or_default();
    let schema = builder.schema().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    // Which file column each wanted column comes from.
    let mut chosen: Vec<(Want, Option<usize>)> = Vec::new();
    for w in wants {
        let found =
            std::iter::once(w.name).chain(w.aliases.iter().copied()).find_map(|n| names.iter().position(|x| x == n));
        if found.is_none() && w.required {
            return Err(
                TableError::MissingColumn { path: shown, column: w.name.to_string(), have: names.join(", ") }.into()
            );
        }
        if let Some(i) = found {
            check_type(&shown, names[i].as_str(), schema.field(i).data_type(), w.kind)?;
        }
        chosen.push((*w, found));
    }
    let roots: Vec<usize> = {
        let mut r: Vec<usize> = chosen.iter().filter_map(|(_, i)| *i).collect();
        r.sort_unstable();
        r.dedup();
        r
    };
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots.clone());
    let reader =
        builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(|e| not_parquet(e.to_string()))?;
    let mut first_row = 1;
    for batch in reader {
        let batch = batch.map_err(|e| not_parquet(e.to_string()))?;
        let mut frame = Frame { rows: batch.num_rows(), ..Default::default() };
        for (w, i) in &chosen {
            let Some(i) = i else { continue };
            // Columns of the batch are the projected ones, in file order.
            let pos = roots.iter().position(|r| r == i).expect("projected");
            let data = column_data(&shown, &names[*i], batch.column(pos), w.kind, first_row)?;
            frame.columns.insert(w.name.to_string(), data);
        }
        first_row += frame.rows;
        each(frame, first_row - batch.num_rows())?;
    }
    Ok(metadata)
}

fn check_type(path: &str, column: &str, found: &DataType, kind: Kind) -> Result<(), TableError> {
    let ok = match kind {
        Kind::Int => found.is_integer(),
        Kind::Bool => matches!(found, DataType::Boolean),
        // Ids are often integers; they are read as their decimal text.
        Kind::Text => text_type(found) || found.is_integer() || is_time(found),
        Kind::Vector => match found {
            DataType::FixedSizeList(f, _) | DataType::List(f) | DataType::LargeList(f) => {
                matches!(f.data_type(), DataType::Float32 | DataType::Float64)
            }
            _ => false,
        },
    };
    if ok {
        return Ok(());
    }
    let want = match kind {
        Kind::Int => "an integer",
        Kind::Bool => "a boolean",
        Kind::Text => "a string",
        Kind::Vector => "a list of float32 or float64",
    };
    Err(TableError::WrongType { path: path.into(), column: column.into(), found: found.to_string(), want: want.into() })
}

fn text_type(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
        _ => false,
    }
}

fn column_data(path: &str, column: &str, a: &ArrayRef, kind: Kind, first_row: usize) -> Result<Data, TableError> {
    let n = a.len();
    Ok(match kind {
        Kind::Int => {
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                out.push(if a.is_null(i) { None } else { Some(int_at(a, i)) });
            }
            Data::Int(out)
        }
        Kind::Bool => {
            let b = a.as_boolean();
            Data::Bool((0..n).map(|i| (!b.is_null(i)).then(|| b.value(i))).collect())
        }
        Kind::Text => Data::Text(texts(a)),
        Kind::Vector => {
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                if a.is_null(i) {
                    out.push(None);
                    continue;
                }
                let values = match a.data_type() {
                    DataType::FixedSizeList(..) => a.as_fixed_size_list().value(i),
                    DataType::List(_) => a.as_list::<i32>().value(i),
                    _ => a.as_list::<i64>().value(i),
                };
                let row: Vec<f32> = match values.data_type() {
                    DataType::Float32 => {
                        values.as_primitive::<Float32Type>().iter().map(|x| x.unwrap_or(f32::NAN)).collect()
                    }
                    _ => values.as_primitive::<Float64Type>().iter().map(|x| x.unwrap_or(f64::NAN) as f32).collect(),
                };
                if values.null_count() > 0 {
                    return Err(TableError::BadValue {
                        path: path.into(),
                        row: first_row + i,
                        message: format!("column \"{column}\" holds a null inside the vector"),
                    });
                }
                out.push(Some(row));
            }
            Data::Vector(out)
        }
    })
}

fn int_at(a: &ArrayRef, i: usize) -> i64 {
    use arrow_array::types::*;
    match a.data_type() {
        DataType::Int8 => a.as_primitive::<Int8Type>().value(i) as i64,
        DataType::Int16 => a.as_primitive::<Int16Type>().value(i) as i64,
        DataType::Int32 => a.as_primitive::<Int32Type>().value(i) as i64,
        DataType::UInt8 => a.as_primitive::<UInt8Type>().value(i) as i64,
        DataType::UInt16 => a.as_primitive::<UInt16Type>().value(i) as i64,
        DataType::UInt32 => a.as_primitive::<UInt32Type>().value(i) as i64,
        DataType::UInt64 => a.as_primitive::<UInt64Type>().value(i).min(i64::MAX as u64) as i64,
        _ => a.as_primitive::<Int64Type>().value(i),
    }
}

fn texts(a: &ArrayRef) -> Vec<Option<String>> {
    let n = a.len();
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().iter().map(|s| s.map(String::from)).collect(),
        DataType::LargeUtf8 => a.as_string::<i64>().iter().map(|s| s.map(String::from)).collect(),
        DataType::Utf8View => a.as_string_view().iter().map(|s| s.map(String::from)).collect(),
        DataType::Dictionary(..) => {
            let dict = a.as_any_dictionary();
            let values = texts(dict.values());
            let keys = dict.normalized_keys();
            (0..n).map(|i| if a.is_null(i) { None } else { values.get(keys[i]).cloned().flatten() }).collect()
        }
        t if t.is_integer() => (0..n).map(|i| (!a.is_null(i)).then(|| int_at(a, i).to_string())).collect(),
        t if is_time(t) => (0..n).map(|i| (!a.is_null(i)).then(|| time_text(a, i)).flatten()).collect(),
        _ => vec![None; n],
    }
}

/// Dates and timestamps, read as text (a date column of a news table).
fn is_time(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(..) | DataType::Date32 | DataType::Date64)
}

/// A date as `YYYY-MM-DD`, a timestamp as RFC 3339 in UTC (a timestamp
/// without a zone is taken as UTC).
fn time_text(a: &ArrayRef, i: usize) -> Option<String> {
    use arrow_array::types::{Date32Type, Date64Type};
    let day = |days: i64| jiff::civil::date(1970, 1, 1).checked_add(jiff::Span::new().days(days)).ok();
    match a.data_type() {
        DataType::Date32 => day(i64::from(a.as_primitive::<Date32Type>().value(i))).map(|d| d.to_string()),
        DataType::Date64 => {
            let ms = a.as_primitive::<Date64Type>().value(i);
            day(ms.div_euclid(86_400_000)).map(|d| d.to_string())
        }
        DataType::Timestamp(unit, _) => {
            let v = int_at_time(a, i);
            let ts = match unit {
                TimeUnit::Second => jiff::Timestamp::from_second(v),
                TimeUnit::Millisecond => jiff::Timestamp::from_millisecond(v),
                TimeUnit::Microsecond => jiff::Timestamp::from_microsecond(v),
                TimeUnit::Nanosecond => Ok(jiff::Timestamp::from_nanosecond(i128::from(v)).ok()?),
            };
            ts.ok().map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        _ => None,
    }
}

fn int_at_time(a: &ArrayRef, i: usize) -> i64 {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    };
    match a.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => a.as_primitive::<TimestampSecondType>().value(i),
        DataType::Timestamp(TimeUnit::Millisecond, _) => a.as_primitive::<TimestampMillisecondType>().value(i),
        DataType::Timestamp(TimeUnit::Microsecond, _) => a.as_primitive::<TimestampMicrosecondType>().value(i),
        _ => a.as_primitive::<TimestampNanosecondType>().value(i),
    }
}

fn read_jsonl<E: From<TableError>>(
    path: &Path,
    wants: &[Want],
    each: &mut dyn FnMut(Frame, usize) -> Result<(), E>,
) -> Result<(), E> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| TableError::io(path, e))?;
    let mut frame = new_frame(wants);
    let mut first_row = 1;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line_no = i + 1;
        let line = line.map_err(|e| TableError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| TableError::BadValue { path: shown.clone(), row: line_no, message };
        let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let obj = value.as_object().ok_or_else(|| bad("not a JSON object".into()))?;
        for w in wants {
            let v = std::iter::once(w.name)
                .chain(w.aliases.iter().copied())
                .find_map(|n| obj.get(n))
                .filter(|v| !v.is_null());
            if v.is_none() && w.required {
                let have: Vec<&str> = obj.keys().map(String::as_str).collect();
                return Err(bad(format!("no field \"{}\" (it has: {})", w.name, have.join(", "))).into());
            }
            push_json(frame.columns.get_mut(w.name).expect("made for every want"), v, w, &bad)?;
        }
        frame.rows += 1;
        if frame.rows == BATCH_ROWS {
            let full = std::mem::replace(&mut frame, new_frame(wants));
            let rows = full.rows;
            each(full, first_row)?;
            first_row += rows;
        }
    }
    each(frame, first_row)
}

fn new_frame(wants: &[Want]) -> Frame {
    let mut f = Frame::default();
    for w in wants {
        f.columns.insert(w.name.to_string(), Data::empty(w.kind));
    }
    f
}

fn push_json(
    data: &mut Data,
    v: Option<&serde_json::Value>,
    w: &Want,
    bad: &dyn Fn(String) -> TableError,
) -> Result<(), TableError> {
    let wrong = |what: &str| bad(format!("field \"{}\" is not {what}", w.name));
    match data {
        Data::Int(out) => out.push(match v {
            None => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| wrong("an integer"))?),
        }),
        Data::Bool(out) => out.push(match v {
            None => None,
            Some(v) => Some(v.as_bool().ok_or_else(|| wrong("true or false"))?),
        }),
        Data::Text(out) => out.push(match v {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(_) => return Err(wrong("a string")),
        }),
        Data::Vector(out) => out.push(match v {
            None => None,
            Some(serde_json::Value::Array(a)) => Some(
                a.iter()
                    .map(|x| x.as_f64().map(|x| x as f32))
                    .collect::<Option<Vec<f32>>>()
                    .ok_or_else(|| wrong("an array of numbers"))?,
            ),
            Some(_) => return Err(wrong("an array of numbers")),
        }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table::new()
            .with("id", Values::I64(vec![1, 2]))
            .with("name", Values::Text(vec!["a".into(), "b".into()]))
            .with("note", Values::OptText(vec![None, Some("x".into())]))
            .with("flag", Values::Bool(vec![true, false]))
            .with("embedding", Values::Vector { dim: 3, data: vec![0.1, 0.2, 0.3, 1.0 / 3.0, 0.5, -0.25] })
    }

    const WANTS: &[Want] = &[
        Want::required("id", Kind::Int),
        Want::required("name", Kind::Text),
        Want::optional("note", Kind::Text),
        Want::optional("flag", Kind::Bool),
        Want::required("vector", Kind::Vector).or(&["embedding"]),
    ];

    fn round_trip(format: Format) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("t.{}", format.extension()));
        let meta = vec![("motif.model".to_string(), "m".to_string())];
        let t = sample();
        let mut w = TableWriter::create(&path, format, &t, &meta).unwrap();
        w.write(&t).unwrap();
        w.write(&t).unwrap();
        assert_eq!(w.finish().unwrap(), 4);
        let f = read_table(&path, WANTS).unwrap();
        assert_eq!(f.rows, 4);
        assert_eq!(f.ints("id").unwrap(), &[Some(1), Some(2), Some(1), Some(2)]);
        assert_eq!(f.texts("note").unwrap()[..2], [None, Some("x".to_string())]);
        assert_eq!(f.bools("flag").unwrap()[1], Some(false));
        // Vectors come back bit for bit, from either format.
        assert_eq!(f.vectors("vector").unwrap()[1].as_deref(), Some(&[1.0f32 / 3.0, 0.5, -0.25][..]));
        if format == Format::Parquet {
            assert_eq!(f.metadata.get("motif.model").map(String::as_str), Some("m"));
        }
    }

    #[test]
    fn parquet_round_trip() {
        round_trip(Format::Parquet);
    }

    #[test]
    fn jsonl_round_trip() {
        round_trip(Format::Jsonl);
    }

    #[test]
    fn missing_column_and_bad_file_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let t = Table::new().with("id", Values::I64(vec![1]));
        let mut w = TableWriter::create(&path, Format::Parquet, &t, &[]).unwrap();
        w.write(&t).unwrap();
        w.finish().unwrap();
        let err = read_table(&path, WANTS).unwrap_err().to_string();
        assert!(err.contains("t.parquet") && err.contains("no column \"name\"") && err.contains("it has: id"), "{err}");

        let broken = dir.path().join("broken.parquet");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&broken, bytes).unwrap();
        let err = read_table(&broken, WANTS).unwrap_err().to_string();
        assert!(err.contains("broken.parquet") && err.contains("not a readable Parquet file"), "{err}");

        let lines = dir.path().join("t.jsonl");
        std::fs::write(&lines, "{\"id\": 1, \"name\": \"a\", \"embedding\": [1]}\n{\"id\": \"x\"}\n").unwrap();
        let err = read_table(&lines, WANTS).unwrap_err().to_string();
        assert!(err.contains("t.jsonl: row 2"), "{err}");
    }

    #[test]
    fn wrong_types_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let t = Table::new().with("id", Values::Text(vec!["1".into()])).with("name", Values::Text(vec!["a".into()]));
        let mut w = TableWriter::create(&path, Format::Parquet, &t, &[]).unwrap();
        w.write(&t).unwrap();
        w.finish().unwrap();
        let err = read_table(&path, &WANTS[..2]).unwrap_err().to_string();
        assert!(err.contains("column \"id\"") && err.contains("integer"), "{err}");
    }
}
