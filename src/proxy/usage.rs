//! The usage store: one SQLite row per proxied request.
//!
//! Writing never slows or fails a request: [`UsageRecorder::record`] hands the row to a bounded
//! channel and returns at once; one background thread drains it and inserts rows in batches, one
//! transaction per batch. When the channel is full the row is dropped and counted
//! ([`UsageStats::dropped`]). Reading goes through its own connection ([`UsageReader`]); the
//! database is in WAL mode, so readers never block the writer.
//!
//! Days are UTC calendar days (`YYYY-MM-DD`): a window of `days` is today (UTC) and the
//! `days - 1` days before it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use serde::Serialize;

/// One finished (or failed) request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageRecord {
    /// Unix time in milliseconds when the request arrived.
    pub ts_ms: i64,
    /// Who asked: `bridge`, or the client's name (`user-agent` product) for direct calls.
    pub client: String,
    /// The model id the client asked for (`deepseek/deepseek-chat`, `smart`, `aimux:coder`).
    pub requested_model: String,
    /// The provider that served it (`deepseek`), empty when none did.
    pub provider: String,
    /// The provider's model id (`deepseek-chat`).
    pub model: String,
    /// HTTP status the client got (200 for a stream that started).
    pub status: u16,
    pub latency_ms: u64,
    /// Time to the first byte of the answer; `None` when there was none.
    pub ttft_ms: Option<u64>,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    /// Estimated cost in USD from preset prices; `None` when the price is unknown.
    pub cost_usd: Option<f64>,
    /// The error code when the request failed (`rate_limit_exceeded`, `upstream_unreachable`, ...).
    pub error_code: Option<String>,
}

/// Totals for one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayTotals {
    /// UTC date, `YYYY-MM-DD`.
    pub date: String,
    pub requests: u64,
    /// Requests with an error code or an HTTP status of 400 or more.
    pub errors: u64,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    /// Sum of the known costs; `None` when no request of the day had a known cost.
    pub cost_usd: Option<f64>,
    /// Requests that used tokens but have no known cost: when non-zero, `cost_usd` is a lower
    /// bound.
    pub unpriced_requests: u64,
}

/// Totals for one (requested model, provider, provider model) triple.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelTotals {
    /// What clients asked for (`smart`, `deepseek/deepseek-chat`).
    pub requested_model: String,
    /// Who served it; empty when nobody did (the request failed before reaching a provider).
    pub provider: String,
    pub model: String,
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: Option<f64>,
    pub unpriced_requests: u64,
    /// Mean latency over every request of the group, rounded to the millisecond.
    pub avg_latency_ms: u64,
    /// Median time to first byte (the lower median for an even count); `None` when no request
    /// of the group produced a first byte.
    pub p50_ttft_ms: Option<u64>,
}

impl ModelTotals {
    /// `provider/model`, or an empty string when no provider served the requests.
    pub fn served_by(&self) -> String {
        match (self.provider.is_empty(), self.model.is_empty()) {
            (true, _) => String::new(),
            (false, true) => self.provider.clone(),
            (false, false) => format!("{}/{}", self.provider, self.model),
        }
    }
}

/// How many failed requests of one provider ended with one error code.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProviderErrors {
    /// Empty when the request failed before reaching a provider.
    pub provider: String,
    /// The recorded error code, or `http_<status>` when only the status tells.
    pub error_code: String,
    pub errors: u64,
    /// When the last of these errors happened (Unix milliseconds).
    pub last_ts_ms: i64,
}

/// The sum of a list of [`DayTotals`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageTotals {
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: Option<f64>,
    pub unpriced_requests: u64,
}

impl UsageTotals {
    pub fn sum(days: &[DayTotals]) -> UsageTotals {
        let mut t = UsageTotals::default();
        for d in days {
            t.requests += d.requests;
            t.errors += d.errors;
            t.input_tokens += d.input_tokens;
            t.cached_tokens += d.cached_tokens;
            t.output_tokens += d.output_tokens;
            t.reasoning_tokens += d.reasoning_tokens;
            t.unpriced_requests += d.unpriced_requests;
            if let Some(c) = d.cost_usd {
                t.cost_usd = Some(t.cost_usd.unwrap_or(0.0) + c);
            }
        }
        t
    }
}

/// What the writer has done since the store was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageStats {
    /// Rows on disk.
    pub written: u64,
    /// Rows never queued: the channel was full, or the writer had stopped.
    pub dropped: u64,
    /// Rows lost because their batch failed to insert (logged).
    pub failed: u64,
}

/// The schema, one entry per version: entry `i` takes the database from `user_version = i` to
/// `i + 1`. Append new entries; never edit old ones.
const MIGRATIONS: &[&str] = &["CREATE TABLE requests (
        id               INTEGER PRIMARY KEY,
        ts_ms            INTEGER NOT NULL,
        client           TEXT    NOT NULL,
        requested_model  TEXT    NOT NULL,
        provider         TEXT    NOT NULL,
        model            TEXT    NOT NULL,
        status           INTEGER NOT NULL,
        latency_ms       INTEGER NOT NULL,
        ttft_ms          INTEGER,
        input_tokens     INTEGER NOT NULL,
        cached_tokens    INTEGER NOT NULL,
        output_tokens    INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_usd         REAL,
        error_code       TEXT
    );
    CREATE INDEX requests_ts ON requests (ts_ms);"];

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How many records may wait for the writer before new ones are dropped.
pub const DEFAULT_CAPACITY: usize = 4096;

/// At most this many rows per transaction.
const MAX_BATCH: usize = 512;

/// How long a connection waits for a lock held by another before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// At most one writer warning per this interval; the others are counted and reported with it.
const WARN_INTERVAL: Duration = Duration::from_secs(60);

const DAY_MS: i64 = 86_400_000;

/// A request counts as an error when it has an error code or a status of 400 or more.
const IS_ERROR: &str = "(error_code IS NOT NULL OR status >= 400)";

const INSERT: &str =
    "INSERT INTO requests (ts_ms, client, requested_model, provider, model, status,
        latency_ms, ttft_ms, input_tokens, cached_tokens, output_tokens, reasoning_tokens,
        cost_usd, error_code)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

enum Msg {
    Record(UsageRecord),
    /// Acknowledged once every message queued before it is on disk.
    Flush(SyncSender<()>),
    Shutdown,
    /// Tests: the writer says it stopped, then waits until `resume` yields or closes.
    #[cfg(test)]
    Pause {
        paused: SyncSender<()>,
        resume: Receiver<()>,
    },
}

#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
}

impl Counters {
    fn stats(&self) -> UsageStats {
        UsageStats {
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// The usage database: a background writer plus a read connection. Dropping it drains every
/// queued record to disk.
pub struct UsageStore {
    path: PathBuf,
    sender: SyncSender<Msg>,
    writer: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
    reader: UsageReader,
}

impl std::fmt::Debug for UsageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageStore")
            .field("path", &self.path)
            .field("stats", &self.counters.stats())
            .finish_non_exhaustive()
    }
}

impl UsageStore {
    /// Opens (creating it and its parent directories if needed) the database at `path`, usually
    /// `$AIMUX_HOME/usage.db`, brings its schema up to date and starts the writer thread.
    pub fn open(path: &Path) -> anyhow::Result<UsageStore> {
        Self::open_with_capacity(path, DEFAULT_CAPACITY)
    }

    /// [`UsageStore::open`] with room for `capacity` queued records (at least 1).
    pub fn open_with_capacity(path: &Path, capacity: usize) -> anyhow::Result<UsageStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)
            .with_context(|| format!("cannot open the usage database {}", path.display()))?;
        setup_writer(&mut conn)
            .with_context(|| format!("cannot prepare the usage database {}", path.display()))?;
        let reader = UsageReader::open_connection(path)?;

        let counters = Arc::new(Counters::default());
        let capacity = capacity.max(1);
        let (sender, receiver) = mpsc::sync_channel(capacity);
        let thread_counters = Arc::clone(&counters);
        let writer = std::thread::Builder::new()
            .name("aimux-usage-writer".into())
            .spawn(move || writer_loop(conn, &receiver, &thread_counters, capacity))
            .context("cannot start the usage writer thread")?;
        Ok(UsageStore {
            path: path.to_owned(),
            sender,
            writer: Some(writer),
            counters,
            reader,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A cheap handle for request handlers: `record` never blocks.
    pub fn recorder(&self) -> UsageRecorder {
        UsageRecorder {
            sender: Some(self.sender.clone()),
            counters: Arc::clone(&self.counters),
        }
    }

    /// A handle for queries (cheap to clone; move it into `spawn_blocking`).
    pub fn reader(&self) -> UsageReader {
        self.reader.clone()
    }

    pub fn stats(&self) -> UsageStats {
        self.counters.stats()
    }

    /// Blocks until every record sent before this call is on disk (or counted as failed).
    pub fn flush(&self) -> anyhow::Result<()> {
        let (ack, done) = mpsc::sync_channel(1);
        self.sender
            .send(Msg::Flush(ack))
            .map_err(|_| anyhow::anyhow!("the usage writer has stopped"))?;
        done.recv()
            .map_err(|_| anyhow::anyhow!("the usage writer stopped before flushing"))
    }

    pub fn daily(&self, days: u32, now_ms: i64) -> anyhow::Result<Vec<DayTotals>> {
        self.reader.daily(days, now_ms)
    }

    pub fn by_model(&self, days: u32, now_ms: i64) -> anyhow::Result<Vec<ModelTotals>> {
        self.reader.by_model(days, now_ms)
    }

    pub fn errors_by_provider(
        &self,
        days: u32,
        now_ms: i64,
    ) -> anyhow::Result<Vec<ProviderErrors>> {
        self.reader.errors_by_provider(days, now_ms)
    }

    pub fn recent(&self, limit: u32) -> anyhow::Result<Vec<UsageRecord>> {
        self.reader.recent(limit)
    }

    /// Stops the writer until the returned sender is dropped (or sends). Returns once stopped.
    #[cfg(test)]
    fn pause_writer(&self) -> SyncSender<()> {
        let (paused_tx, paused_rx) = mpsc::sync_channel(1);
        let (resume_tx, resume_rx) = mpsc::sync_channel(1);
        let sent = self.sender.send(Msg::Pause {
            paused: paused_tx,
            resume: resume_rx,
        });
        assert!(sent.is_ok(), "writer gone");
        assert!(paused_rx.recv().is_ok(), "writer did not pause");
        resume_tx
    }
}

impl Drop for UsageStore {
    fn drop(&mut self) {
        // Queued behind every record sent so far, so the writer drains them first.
        let _ = self.sender.send(Msg::Shutdown);
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::warn!("the usage writer thread panicked");
        }
    }
}

/// Sends usage records to the store's writer without ever blocking. Clone it freely.
#[derive(Clone)]
pub struct UsageRecorder {
    sender: Option<SyncSender<Msg>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for UsageRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageRecorder")
            .field("enabled", &self.sender.is_some())
            .field("stats", &self.counters.stats())
            .finish()
    }
}

impl UsageRecorder {
    /// A recorder that keeps nothing (every record counts as dropped): for a proxy running
    /// without a usage database.
    pub fn disabled() -> UsageRecorder {
        UsageRecorder {
            sender: None,
            counters: Arc::default(),
        }
    }

    /// Queues `rec` for the writer; drops it (and counts the drop) when the queue is full or the
    /// store is closed. Never blocks.
    pub fn record(&self, rec: UsageRecord) {
        let queued = match &self.sender {
            Some(sender) => match sender.try_send(Msg::Record(rec)) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if !queued {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records dropped since the store was opened.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    pub fn stats(&self) -> UsageStats {
        self.counters.stats()
    }
}

fn setup_writer(conn: &mut Connection) -> anyhow::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let _mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(conn)
}

/// Applies the migrations this database has not seen, in one immediate transaction so two
/// processes opening it at once do not both migrate. Writes nothing when it is up to date.
fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    check_not_newer(version)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    check_not_newer(version)?;
    let from = usize::try_from(version).unwrap_or(0);
    for sql in MIGRATIONS.iter().skip(from) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

fn check_not_newer(version: i64) -> anyhow::Result<()> {
    if version > SCHEMA_VERSION {
        anyhow::bail!(
            "schema version {version} is newer than this aimux understands ({SCHEMA_VERSION}); \
             hint: upgrade aimux, or move the file aside to start a fresh one"
        );
    }
    Ok(())
}

/// Logs writer failures at most once per [`WARN_INTERVAL`], counting the ones it held back.
struct WarnLimiter {
    last: Option<Instant>,
    suppressed: u64,
}

impl WarnLimiter {
    fn warn(&mut self, rows: usize, error: &rusqlite::Error) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < WARN_INTERVAL)
        {
            self.suppressed += 1;
            return;
        }
        tracing::warn!(
            rows,
            suppressed = self.suppressed,
            "usage store: cannot write usage rows ({error}); they are lost"
        );
        self.last = Some(now);
        self.suppressed = 0;
    }
}

/// How long the writer lets records queue up after the first one before writing them.
const LINGER: Duration = Duration::from_millis(20);

/// Takes one batch per wake-up: blocks for a message, lets records gather for [`LINGER`], then
/// takes what is queued, writing
/// every [`MAX_BATCH`] rows, at each flush, and when the queue runs dry. Under a steady stream
/// of records it keeps writing full batches; flushes are answered as soon as they are reached.
fn writer_loop(
    mut conn: Connection,
    receiver: &Receiver<Msg>,
    counters: &Counters,
    capacity: usize,
) {
    let mut limiter = WarnLimiter {
        last: None,
        suppressed: 0,
    };
    let mut batch: Vec<UsageRecord> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = receiver.recv() {
        // Let the batch gather: a sender does not wake a receiver that is not waiting, so under
        // load this is one wake-up per LINGER instead of one per request.
        if matches!(first, Msg::Record(_)) {
            std::thread::sleep(LINGER);
        }
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Record(rec) => {
                    batch.push(rec);
                    if batch.len() >= MAX_BATCH {
                        write_batch(&mut conn, &mut batch, counters, &mut limiter);
                    }
                }
                Msg::Flush(ack) => {
                    write_batch(&mut conn, &mut batch, counters, &mut limiter);
                    let _ = ack.send(());
                }
                Msg::Shutdown => {
                    // Keep what recorders sent while the store was closing, up to one queue's
                    // worth, so a stream of late records cannot hold the shutdown up.
                    let late = receiver.try_iter().take(capacity);
                    batch.extend(late.filter_map(|msg| match msg {
                        Msg::Record(rec) => Some(rec),
                        _ => None,
                    }));
                    write_batch(&mut conn, &mut batch, counters, &mut limiter);
                    tracing::debug!(stats = ?counters.stats(), "usage writer stopped");
                    return;
                }
                #[cfg(test)]
                Msg::Pause { paused, resume } => {
                    let _ = paused.send(());
                    let _ = resume.recv();
                }
            }
            next = receiver.try_recv().ok();
        }
        write_batch(&mut conn, &mut batch, counters, &mut limiter);
    }
    // Every sender is gone (the store was dropped without a shutdown message).
    write_batch(&mut conn, &mut batch, counters, &mut limiter);
}

fn write_batch(
    conn: &mut Connection,
    batch: &mut Vec<UsageRecord>,
    counters: &Counters,
    limiter: &mut WarnLimiter,
) {
    if batch.is_empty() {
        return;
    }
    let rows = batch.len();
    match insert_all(conn, batch) {
        Ok(()) => counters.written.fetch_add(rows as u64, Ordering::Relaxed),
        Err(e) => {
            limiter.warn(rows, &e);
            counters.failed.fetch_add(rows as u64, Ordering::Relaxed)
        }
    };
    batch.clear();
}

fn insert_all(conn: &mut Connection, batch: &[UsageRecord]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(INSERT)?;
        for r in batch {
            stmt.execute(params![
                r.ts_ms,
                r.client,
                r.requested_model,
                r.provider,
                r.model,
                r.status,
                to_i64(r.latency_ms),
                r.ttft_ms.map(to_i64),
                to_i64(r.input_tokens),
                to_i64(r.cached_tokens),
                to_i64(r.output_tokens),
                to_i64(r.reasoning_tokens),
                r.cost_usd,
                r.error_code,
            ])?;
        }
    }
    tx.commit()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `[start, end)` in Unix milliseconds: from the start of the UTC day `days - 1` days before
/// `now_ms` to the end of `now_ms`'s UTC day. `None` for `days == 0`.
pub fn window(days: u32, now_ms: i64) -> Option<(i64, i64)> {
    if days == 0 {
        return None;
    }
    let today = now_ms.div_euclid(DAY_MS).saturating_mul(DAY_MS);
    let start = today.saturating_sub(i64::from(days - 1).saturating_mul(DAY_MS));
    Some((start, today.saturating_add(DAY_MS)))
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Queries over the usage database through a connection of its own. Cheap to clone.
#[derive(Clone)]
pub struct UsageReader {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for UsageReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageReader").finish_non_exhaustive()
    }
}

impl UsageReader {
    /// Opens an existing database for queries; `Ok(None)` when there is no file at `path`
    /// (nothing was ever recorded). Creates nothing; writes only to migrate an old schema.
    pub fn open_existing(path: &Path) -> anyhow::Result<Option<UsageReader>> {
        if !path.exists() {
            return Ok(None);
        }
        let reader = Self::open_connection(path)?;
        {
            let mut conn = reader.lock();
            migrate(&mut conn)
                .with_context(|| format!("cannot read the usage database {}", path.display()))?;
        }
        Ok(Some(reader))
    }

    fn open_connection(path: &Path) -> anyhow::Result<UsageReader> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .and_then(|conn| {
                conn.busy_timeout(BUSY_TIMEOUT)?;
                Ok(conn)
            })
            .with_context(|| format!("cannot open the usage database {}", path.display()))?;
        Ok(UsageReader {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One row per UTC day with at least one request in the window, oldest first.
    pub fn daily(&self, days: u32, now_ms: i64) -> anyhow::Result<Vec<DayTotals>> {
        let Some((start, end)) = window(days, now_ms) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT date(ts_ms / 1000, 'unixepoch') AS day, COUNT(*), SUM({IS_ERROR}),
                SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(reasoning_tokens),
                SUM(cost_usd), SUM(cost_usd IS NULL AND input_tokens + output_tokens > 0)
             FROM requests WHERE ts_ms >= ?1 AND ts_ms < ?2
             GROUP BY day ORDER BY day"
        );
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![start, end], |row| {
            Ok(DayTotals {
                date: row.get(0)?,
                requests: to_u64(row.get(1)?),
                errors: to_u64(row.get(2)?),
                input_tokens: to_u64(row.get(3)?),
                cached_tokens: to_u64(row.get(4)?),
                output_tokens: to_u64(row.get(5)?),
                reasoning_tokens: to_u64(row.get(6)?),
                cost_usd: row.get(7)?,
                unpriced_requests: to_u64(row.get(8)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One row per (requested model, provider, provider model) in the window, busiest first.
    pub fn by_model(&self, days: u32, now_ms: i64) -> anyhow::Result<Vec<ModelTotals>> {
        let Some((start, end)) = window(days, now_ms) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT requested_model, provider, model, COUNT(*), SUM({IS_ERROR}),
                SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(reasoning_tokens),
                SUM(cost_usd), SUM(cost_usd IS NULL AND input_tokens + output_tokens > 0),
                CAST(ROUND(AVG(latency_ms)) AS INTEGER)
             FROM requests WHERE ts_ms >= ?1 AND ts_ms < ?2
             GROUP BY requested_model, provider, model
             ORDER BY COUNT(*) DESC, requested_model, provider, model"
        );
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![start, end], |row| {
            Ok(ModelTotals {
                requested_model: row.get(0)?,
                provider: row.get(1)?,
                model: row.get(2)?,
                requests: to_u64(row.get(3)?),
                errors: to_u64(row.get(4)?),
                input_tokens: to_u64(row.get(5)?),
                cached_tokens: to_u64(row.get(6)?),
                output_tokens: to_u64(row.get(7)?),
                reasoning_tokens: to_u64(row.get(8)?),
                cost_usd: row.get(9)?,
                unpriced_requests: to_u64(row.get(10)?),
                avg_latency_ms: to_u64(row.get(11)?),
                p50_ttft_ms: None,
            })
        })?;
        let mut models: Vec<ModelTotals> = rows.collect::<Result<_, _>>()?;

        // The lower median of ttft per group, picked by SQL window functions.
        let mut stmt = conn.prepare_cached(
            "SELECT requested_model, provider, model, ttft_ms FROM (
                SELECT requested_model, provider, model, ttft_ms,
                    ROW_NUMBER() OVER g AS rn, COUNT(*) OVER g AS n
                FROM requests
                WHERE ts_ms >= ?1 AND ts_ms < ?2 AND ttft_ms IS NOT NULL
                WINDOW g AS (PARTITION BY requested_model, provider, model ORDER BY ttft_ms
                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
             WHERE rn = (n + 1) / 2",
        )?;
        let medians = stmt.query_map(params![start, end], |row| {
            let key: (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
            Ok((key, to_u64(row.get(3)?)))
        })?;
        let medians: HashMap<(String, String, String), u64> = medians.collect::<Result<_, _>>()?;
        for m in &mut models {
            let key = (
                m.requested_model.clone(),
                m.provider.clone(),
                m.model.clone(),
            );
            m.p50_ttft_ms = medians.get(&key).copied();
        }
        Ok(models)
    }

    /// Failed requests in the window grouped by provider and error code, most frequent first.
    pub fn errors_by_provider(
        &self,
        days: u32,
        now_ms: i64,
    ) -> anyhow::Result<Vec<ProviderErrors>> {
        let Some((start, end)) = window(days, now_ms) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT provider, COALESCE(error_code, 'http_' || status) AS code, COUNT(*), MAX(ts_ms)
             FROM requests WHERE ts_ms >= ?1 AND ts_ms < ?2 AND {IS_ERROR}
             GROUP BY provider, code
             ORDER BY COUNT(*) DESC, provider, code"
        );
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![start, end], |row| {
            Ok(ProviderErrors {
                provider: row.get(0)?,
                error_code: row.get(1)?,
                errors: to_u64(row.get(2)?),
                last_ts_ms: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The last `limit` requests, newest first.
    pub fn recent(&self, limit: u32) -> anyhow::Result<Vec<UsageRecord>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT ts_ms, client, requested_model, provider, model, status, latency_ms, ttft_ms,
                input_tokens, cached_tokens, output_tokens, reasoning_tokens, cost_usd, error_code
             FROM requests ORDER BY ts_ms DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |row| {
            Ok(UsageRecord {
                ts_ms: row.get(0)?,
                client: row.get(1)?,
                requested_model: row.get(2)?,
                provider: row.get(3)?,
                model: row.get(4)?,
                status: u16::try_from(row.get::<_, i64>(5)?).unwrap_or(0),
                latency_ms: to_u64(row.get(6)?),
                ttft_ms: row.get::<_, Option<i64>>(7)?.map(to_u64),
                input_tokens: to_u64(row.get(8)?),
                cached_tokens: to_u64(row.get(9)?),
                output_tokens: to_u64(row.get(10)?),
                reasoning_tokens: to_u64(row.get(11)?),
                cost_usd: row.get(12)?,
                error_code: row.get(13)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> anyhow::Result<i64> {
        let conn = self.lock();
        Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// How many rows the database holds in all.
    pub fn count(&self) -> anyhow::Result<u64> {
        let conn = self.lock();
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM requests", [], |row| row.get(0))?;
        Ok(to_u64(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24T12:00:00Z.
    const NOW: i64 = 1_795_521_600_000;
    const TODAY: i64 = NOW - 12 * 3_600_000;

    fn rec(ts_ms: i64, requested: &str, provider: &str, model: &str) -> UsageRecord {
        UsageRecord {
            ts_ms,
            client: "bridge".into(),
            requested_model: requested.into(),
            provider: provider.into(),
            model: model.into(),
            status: 200,
            latency_ms: 1000,
            ttft_ms: Some(100),
            input_tokens: 100,
            cached_tokens: 40,
            output_tokens: 10,
            reasoning_tokens: 5,
            cost_usd: Some(0.001),
            error_code: None,
        }
    }

    fn db(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("nested").join("home").join("usage.db")
    }

    #[test]
    fn now_constant_is_noon_utc() {
        assert_eq!(NOW.rem_euclid(DAY_MS), 12 * 3_600_000);
        assert_eq!(TODAY.rem_euclid(DAY_MS), 0);
    }

    #[test]
    fn writes_n_records_and_totals_them_exactly() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = UsageStore::open(&db(&dir))?;
        let recorder = store.recorder();
        for i in 0..1000 {
            let mut r = rec(TODAY + i, "smart", "deepseek", "deepseek-chat");
            if i % 10 == 0 {
                r.status = 429;
                r.error_code = Some("rate_limit_exceeded".into());
                r.input_tokens = 0;
                r.cached_tokens = 0;
                r.output_tokens = 0;
                r.reasoning_tokens = 0;
                r.cost_usd = None;
                r.ttft_ms = None;
            }
            recorder.record(r);
        }
        store.flush()?;
        assert_eq!(
            store.stats(),
            UsageStats {
                written: 1000,
                dropped: 0,
                failed: 0
            }
        );

        let daily = store.daily(1, NOW)?;
        assert_eq!(daily.len(), 1);
        let d = &daily[0];
        assert_eq!(d.date, "2026-11-24");
        assert_eq!(d.requests, 1000);
        assert_eq!(d.errors, 100);
        assert_eq!(d.input_tokens, 90_000);
        assert_eq!(d.cached_tokens, 36_000);
        assert_eq!(d.output_tokens, 9_000);
        assert_eq!(d.reasoning_tokens, 4_500);
        assert!((d.cost_usd.unwrap_or_default() - 0.9).abs() < 1e-9);
        // Failed requests used no tokens, so they do not make the cost a lower bound.
        assert_eq!(d.unpriced_requests, 0);

        let models = store.by_model(1, NOW)?;
        assert_eq!(models.len(), 1);
        let m = &models[0];
        assert_eq!(m.served_by(), "deepseek/deepseek-chat");
        assert_eq!((m.requests, m.errors, m.input_tokens), (1000, 100, 90_000));
        assert_eq!(m.avg_latency_ms, 1000);
        assert_eq!(m.p50_ttft_ms, Some(100));

        let errors = store.errors_by_provider(1, NOW)?;
        assert_eq!(
            errors,
            vec![ProviderErrors {
                provider: "deepseek".into(),
                error_code: "rate_limit_exceeded".into(),
                errors: 100,
                last_ts_ms: TODAY + 990,
            }]
        );

        let recent = store.recent(3)?;
        assert_eq!(recent.len(), 3);
        assert_eq!(
            recent[0],
            rec(TODAY + 999, "smart", "deepseek", "deepseek-chat")
        );
        assert_eq!(recent[2].ts_ms, TODAY + 997);
        Ok(())
    }

    #[test]
    fn groups_models_with_medians_latency_and_unknown_costs() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = UsageStore::open(&db(&dir))?;
        let recorder = store.recorder();
        for (i, ttft) in [Some(300), Some(100), None, Some(200), Some(400)]
            .into_iter()
            .enumerate()
        {
            let mut r = rec(TODAY + i as i64, "fast", "groq", "llama-3.3-70b");
            r.ttft_ms = ttft;
            r.latency_ms = 100 * (i as u64 + 1);
            r.cost_usd = None;
            recorder.record(r);
        }
        let mut failed = rec(TODAY, "nope/x", "", "");
        failed.status = 404;
        failed.error_code = None;
        failed.ttft_ms = None;
        failed.input_tokens = 0;
        failed.output_tokens = 0;
        failed.cost_usd = None;
        recorder.record(failed);
        store.flush()?;

        let models = store.by_model(7, NOW)?;
        assert_eq!(models.len(), 2);
        let fast = &models[0];
        assert_eq!(fast.requested_model, "fast");
        assert_eq!(fast.requests, 5);
        assert_eq!(fast.avg_latency_ms, 300);
        // 100, 200, 300, 400: the lower median.
        assert_eq!(fast.p50_ttft_ms, Some(200));
        assert_eq!(fast.cost_usd, None);
        assert_eq!(fast.unpriced_requests, 5);
        let nope = &models[1];
        assert_eq!(nope.served_by(), "");
        assert_eq!((nope.requests, nope.errors), (1, 1));
        assert_eq!(nope.p50_ttft_ms, None);

        let errors = store.errors_by_provider(7, NOW)?;
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].error_code, "http_404");
        assert_eq!(errors[0].provider, "");
        Ok(())
    }

    #[test]
    fn day_windows_are_utc_calendar_days() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = UsageStore::open(&db(&dir))?;
        let recorder = store.recorder();
        let stamps = [
            TODAY + DAY_MS,         // tomorrow: never in a window ending today
            TODAY + DAY_MS - 1,     // today's last millisecond
            TODAY,                  // today's first millisecond
            TODAY - 1,              // yesterday
            TODAY - DAY_MS,         // yesterday's first millisecond
            TODAY - DAY_MS - 1,     // two days ago
            TODAY - 6 * DAY_MS,     // first day of a 7-day window
            TODAY - 6 * DAY_MS - 1, // just outside it
        ];
        for ts in stamps {
            recorder.record(rec(ts, "m", "p", "m"));
        }
        store.flush()?;
        let requests = |days| -> anyhow::Result<Vec<(String, u64)>> {
            Ok(store
                .daily(days, NOW)?
                .into_iter()
                .map(|d| (d.date, d.requests))
                .collect())
        };
        assert_eq!(requests(0)?, vec![]);
        assert_eq!(requests(1)?, vec![("2026-11-24".into(), 2)]);
        assert_eq!(
            requests(2)?,
            vec![("2026-11-23".into(), 2), ("2026-11-24".into(), 2)]
        );
        assert_eq!(
            requests(7)?,
            vec![
                ("2026-11-18".into(), 1),
                ("2026-11-22".into(), 1),
                ("2026-11-23".into(), 2),
                ("2026-11-24".into(), 2),
            ]
        );
        assert_eq!(requests(8)?.len(), 5);
        // A `now` late in the day or at midnight sees the same day.
        assert_eq!(store.daily(1, TODAY)?.len(), 1);
        assert_eq!(store.daily(1, TODAY + DAY_MS - 1)?[0].requests, 2);
        assert_eq!(store.by_model(1, NOW)?[0].requests, 2);
        assert_eq!(window(1, NOW), Some((TODAY, TODAY + DAY_MS)));
        Ok(())
    }

    #[test]
    fn a_full_channel_drops_and_counts() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = UsageStore::open_with_capacity(&db(&dir), 2)?;
        let recorder = store.recorder();
        let resume = store.pause_writer();
        for i in 0..5 {
            recorder.record(rec(TODAY + i, "m", "p", "m"));
        }
        assert_eq!(recorder.dropped(), 3);
        drop(resume);
        store.flush()?;
        assert_eq!(
            store.stats(),
            UsageStats {
                written: 2,
                dropped: 3,
                failed: 0
            }
        );
        assert_eq!(store.reader().count()?, 2);
        Ok(())
    }

    #[test]
    fn a_disabled_recorder_counts_drops() {
        let recorder = UsageRecorder::disabled();
        recorder.record(UsageRecord::default());
        assert_eq!(recorder.dropped(), 1);
    }

    #[test]
    fn records_after_the_store_closed_are_dropped() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = UsageStore::open(&db(&dir))?;
        let recorder = store.recorder();
        drop(store);
        recorder.record(rec(TODAY, "m", "p", "m"));
        assert_eq!(recorder.dropped(), 1);
        Ok(())
    }

    #[test]
    fn dropping_the_store_drains_and_reopening_keeps_rows() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = db(&dir);
        {
            let store = UsageStore::open(&path)?;
            let recorder = store.recorder();
            for i in 0..700 {
                recorder.record(rec(TODAY + i, "m", "p", "m"));
            }
            // No flush: dropping the store must drain the queue.
        }
        let store = UsageStore::open(&path)?;
        assert_eq!(store.reader().schema_version()?, SCHEMA_VERSION);
        assert_eq!(store.reader().count()?, 700);
        store.recorder().record(rec(TODAY, "m", "p", "m"));
        store.flush()?;
        assert_eq!(store.daily(1, NOW)?[0].requests, 701);
        drop(store);

        let reader = UsageReader::open_existing(&path)?;
        let reader = reader.ok_or_else(|| anyhow::anyhow!("db missing"))?;
        assert_eq!(reader.count()?, 701);
        let mode: String = reader
            .lock()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        assert_eq!(mode, "wal");
        Ok(())
    }

    #[test]
    fn reading_a_missing_db_is_none_and_creates_nothing() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = db(&dir);
        assert!(UsageReader::open_existing(&path)?.is_none());
        assert!(!path.exists());
        Ok(())
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_hint() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("usage.db");
        {
            let conn = Connection::open(&path)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)?;
        }
        let err = UsageStore::open(&path).map(|_| ());
        let message = format!("{:#}", err.err().ok_or_else(|| anyhow::anyhow!("opened"))?);
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("hint: upgrade aimux"), "{message}");
        Ok(())
    }

    #[test]
    fn concurrent_recorders_lose_nothing() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = UsageStore::open_with_capacity(&db(&dir), 10_000)?;
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let recorder = store.recorder();
                std::thread::spawn(move || {
                    for i in 0..500 {
                        recorder.record(rec(TODAY + i, &format!("model-{t}"), "p", "m"));
                    }
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().is_ok());
        }
        // Reads while the writer works.
        let _ = store.daily(1, NOW)?;
        store.flush()?;
        assert_eq!(store.stats().written, 4000);
        assert_eq!(store.stats().dropped, 0);
        let models = store.by_model(1, NOW)?;
        assert_eq!(models.len(), 8);
        assert!(models.iter().all(|m| m.requests == 500));
        Ok(())
    }

    #[test]
    fn flush_and_drop_return_while_recorders_keep_sending() -> anyhow::Result<()> {
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir()?;
        let store = UsageStore::open_with_capacity(&db(&dir), 64)?;
        // Queued before the spammers start: a full queue drops records by design, and with the
        // writer's linger the queue is full most of the time below.
        let recorder = store.recorder();
        recorder.record(rec(TODAY, "marker", "p", "m"));
        let stop = Arc::new(AtomicBool::new(false));
        let spammers: Vec<_> = (0..2)
            .map(|_| {
                let recorder = store.recorder();
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut sent = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        recorder.record(rec(TODAY, "m", "p", "m"));
                        sent += 1;
                    }
                    sent
                })
            })
            .collect();
        store.flush()?;
        let markers = store.by_model(1, NOW)?;
        assert!(markers.iter().any(|m| m.requested_model == "marker"));
        drop(store);
        stop.store(true, Ordering::Relaxed);
        let mut sent = 1;
        for s in spammers {
            sent += s.join().map_err(|_| anyhow::anyhow!("spammer panicked"))?;
        }
        // Every record is accounted for: written, or counted as dropped, or lost in the
        // instant between the writer's last look at the queue and its exit.
        let stats = recorder.stats();
        assert_eq!(stats.failed, 0);
        assert!(stats.written + stats.dropped <= sent);
        assert!(
            stats.written + stats.dropped + 64 >= sent,
            "{stats:?} of {sent}"
        );
        let reader = UsageReader::open_existing(&db(&dir))?;
        let reader = reader.ok_or_else(|| anyhow::anyhow!("db missing"))?;
        assert_eq!(reader.count()?, stats.written);
        Ok(())
    }

    #[test]
    fn handles_are_shareable_across_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        fn cloneable<T: Clone>() {}
        shareable::<UsageStore>();
        shareable::<UsageRecorder>();
        shareable::<UsageReader>();
        cloneable::<UsageRecorder>();
        cloneable::<UsageReader>();
    }

    #[test]
    fn totals_sum_days() {
        let days = [
            DayTotals {
                requests: 2,
                cost_usd: Some(0.5),
                ..DayTotals::default()
            },
            DayTotals {
                requests: 3,
                unpriced_requests: 1,
                ..DayTotals::default()
            },
        ];
        let t = UsageTotals::sum(&days);
        assert_eq!((t.requests, t.unpriced_requests), (5, 1));
        assert_eq!(t.cost_usd, Some(0.5));
        assert_eq!(UsageTotals::sum(&[]).cost_usd, None);
    }
}
