//! The live runtime both agents run: the I/O around a [`LiveEngine`]. It owns the engine, the
//! journal and the venue connections in one task, turns stream events, timers and Unix signals
//! into engine calls, and carries out the engine's commands in order (margin mode, leverage,
//! orders, cancels, journal records, saved files, alerts).
//!
//! Start-up: take the PID file, replay the journal, load the venue's rules, backfill bars,
//! reconcile with the venue (orders in flight, fills missed while down, holdings, protective
//! orders), then stream. A user-stream gap triggers the same reconciliation. An order whose
//! outcome stayed unknown is queried again on every tick until the venue answers; it is never
//! sent again. SIGTERM/SIGINT stop after the current step (positions stay open under their
//! resting stops unless `flatten_on_stop`); SIGHUP reloads the config; SIGUSR1 writes the status
//! now; SIGUSR2 flattens everything and halts entries.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use exchange_core::venue::{
    Execution, KlineInterval, KlineQuery, MarketData, MarketEvent, MarketFeed, UserDataFeed, VenueError,
    VenueEvent,
};
use exchange_core::{
    ClientOrderId, Fill, InstrumentRules, OrderPurpose, OrderRequest, OrderUpdate, Price, Qty, Symbol,
};
use notify::{Kind, Notification, Notifier};
use rust_decimal::Decimal;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::{AlertLevel, Command, Holdings, LiveEngine, Mismatch, StatusContext};
use crate::journal::{Durability, Journal, JournalError};
use crate::logfile::wall_clock_ms;
use crate::pidfile::{PidFile, PidFileError};

/// How often the status snapshot is rewritten (DESIGN §6: at least every 10 s).
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// How long to wait for the other symbols' bars of the same open time before deciding.
const CLOSE_DEADLINE: Duration = Duration::from_secs(5);
/// Bars fetched over REST after a market-stream gap.
const CATCH_UP_BARS: u16 = 50;

/// What the runtime needs from an agent's resolved settings.
pub trait AgentSettings: Sized + Send {
    /// The engine's strategy and risk keys.
    type Params: Clone + Send;

    /// The PID file.
    fn pid_path(&self) -> PathBuf;
    /// The journal.
    fn journal_path(&self) -> PathBuf;
    /// The status snapshot.
    fn status_path(&self) -> PathBuf;
    /// Where saved state files go.
    fn run_dir(&self) -> &Path;
    /// The venue's name (`sim`, `binance-demo`, ...).
    fn venue_name(&self) -> String;
    /// `live` or `paper`.
    fn mode(&self) -> &'static str;
    /// Close every position on a graceful stop.
    fn flatten_on_stop(&self) -> bool;
    /// The strategy and risk keys.
    fn params(&self) -> Self::Params;
    /// Resolves the settings again from the same sources (SIGHUP).
    ///
    /// # Errors
    /// Every problem of the new config, as one message.
    fn reload(&self) -> Result<Self, String>;
}

/// Why the agent stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Another instance holds the PID file, or it cannot be written.
    #[error(transparent)]
    Pid(#[from] PidFileError),
    /// The journal cannot be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The journal holds a record the engine cannot replay.
    #[error("{0}")]
    Replay(String),
    /// Configured symbols the venue does not list or does not trade.
    #[error("symbols the venue does not list or trade: {}; remove them from `symbols`", .0.join(", "))]
    Unlisted(Vec<String>),
    /// The venue failed in a way the agent cannot go on from.
    #[error("venue: {0}")]
    Venue(#[from] VenueError),
    /// The venue's state differs from the journal's and `--adopt` was not given.
    #[error("{0}")]
    Mismatch(#[from] Mismatch),
    /// A signal handler could not be installed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl RunError {
    /// Exit code: 2 for a state a person must look at (mismatch, corrupt journal), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Mismatch(_)
            | Self::Replay(_)
            | Self::Unlisted(_)
            | Self::Journal(JournalError::Corrupt { .. }) => 2,
            _ => 1,
        }
    }
}

/// A running agent.
#[derive(Debug)]
pub struct Agent<V, E, S> {
    venue: V,
    settings: S,
    engine: E,
    journal: Journal,
    notifier: Notifier,
    unknown: Vec<(Symbol, ClientOrderId)>,
    started_ms: i64,
    last_error: Option<String>,
    gathering_since: Option<tokio::time::Instant>,
    /// Set when the venue's state must be re-read at the next tick.
    reconcile_due: bool,
    /// Set when catching up on missed bars failed for now: tried again at the next tick.
    catch_up_due: bool,
    /// The leverage this process last set per symbol (a second identical call is skipped).
    leverage_set: HashMap<Symbol, u32>,
    /// The latest close until its first entry goes out, for the decision-latency log line.
    close_timing: Option<CloseTiming>,
    ready: bool,
}

impl<V, E, S> Agent<V, E, S>
where
    V: MarketData + Execution + UserDataFeed + MarketFeed,
    E: LiveEngine<Params = S::Params>,
    S: AgentSettings,
{
    /// Builds the agent: PID file, the venue's rules of `symbols`, the engine (`build` gets the
    /// rules and the session start), journal replay. Nothing is sent yet.
    ///
    /// # Errors
    /// Another instance running, a corrupt journal, or a venue that cannot be reached.
    pub async fn prepare(
        venue: V,
        settings: S,
        notifier: Notifier,
        symbols: &[Symbol],
        build: impl FnOnce(Vec<(Symbol, InstrumentRules)>, u64) -> E,
    ) -> Result<(Self, PidFile), RunError> {
        let pid = PidFile::acquire(&settings.pid_path())?;
        let opened = Journal::open(&settings.journal_path())?;
        if let Some(warning) = &opened.warning {
            tracing::warn!("{warning}");
        }
        let mut rules = Vec::new();
        let mut unlisted = Vec::new();
        for symbol in symbols {
            match venue.instrument_rules(symbol).await {
                Ok(r) => rules.push((symbol.clone(), r)),
                Err(VenueError::NotFound { .. }) => unlisted.push(symbol.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        if !unlisted.is_empty() {
            return Err(RunError::Unlisted(unlisted));
        }
        let started_ms = wall_clock_ms();
        let session_ms = u64::try_from(started_ms).unwrap_or(0);
        let mut engine = build(rules, session_ms);
        engine.replay(&opened.records).map_err(RunError::Replay)?;
        tracing::info!(records = opened.records.len(), "journal replayed");
        let mut journal = opened.journal;
        if let Command::Record { kind, ts, fields } = engine.begin_session(session_ms, started_ms) {
            journal.append(kind, ts, &fields, Durability::Sync)?;
        }
        let agent = Self {
            venue,
            settings,
            engine,
            journal,
            notifier,
            unknown: Vec::new(),
            started_ms,
            last_error: None,
            gathering_since: None,
            close_timing: None,
            leverage_set: HashMap::new(),
            reconcile_due: false,
            catch_up_due: false,
            ready: false,
        };
        Ok((agent, pid))
    }

    /// Runs until `shutdown` is cancelled or a SIGTERM/SIGINT arrives.
    ///
    /// # Errors
    /// An unexplained difference with the venue (without `adopt`), or a journal/venue failure
    /// the agent cannot continue from.
    pub async fn run(mut self, adopt: bool, shutdown: CancellationToken) -> Result<(), RunError> {
        // Handlers first: a supervisor may signal as soon as the status says ready, and an
        // uncaught SIGHUP or SIGUSR1 would kill the process.
        let mut term = signal(SignalKind::terminate()).map_err(|e| io("SIGTERM handler", e))?;
        let mut hup = signal(SignalKind::hangup()).map_err(|e| io("SIGHUP handler", e))?;
        let mut usr1 = signal(SignalKind::user_defined1()).map_err(|e| io("SIGUSR1 handler", e))?;
        let mut usr2 = signal(SignalKind::user_defined2()).map_err(|e| io("SIGUSR2 handler", e))?;
        let setup = self.engine.setup();
        self.execute(setup).await?;
        self.backfill().await?;
        self.reconcile(adopt).await?;

        let mut streams: Vec<String> = Vec::new();
        for symbol in self.engine.symbols() {
            streams.push(self.venue.kline_stream(&symbol, KlineInterval::H1));
            streams.extend(self.venue.mark_price_stream(&symbol));
        }
        let mut market = self.venue.start_market_stream(streams).await?;
        let mut user = self.venue.start_user_stream().await?;
        // A bar that closed between the backfill and the market stream's subscription reached
        // neither: read it over REST now, as after any stream gap (its decision is made now).
        self.catch_up_or_retry().await?;
        self.ready = true;
        self.write_status();
        let agent = self.engine.agent();
        self.notifier.send(Notification::new(
            Kind::Trade,
            format!("{agent} started"),
            format!("venue {}, {} mode", self.settings.venue_name(), self.settings.mode()),
        ));
        tracing::info!(venue = %self.settings.venue_name(), mode = self.settings.mode(), "trading");

        let mut tick = tokio::time::interval(STATUS_EVERY);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = term.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
                _ = hup.recv() => self.reload(),
                _ = usr1.recv() => self.write_status(),
                _ = usr2.recv() => {
                    tracing::warn!("SIGUSR2: emergency flatten");
                    let commands = self.engine.flatten(self.now());
                    self.execute(commands).await?;
                    self.write_status();
                }
                event = market.events.recv() => match event {
                    Some(event) => self.on_market(event).await?,
                    None => return Err(RunError::Venue(VenueError::Closed)),
                },
                event = user.events.recv() => match event {
                    Some(event) => self.on_user(event, adopt).await?,
                    None => return Err(RunError::Venue(VenueError::Closed)),
                },
                _ = tick.tick() => self.on_tick().await?,
            }
        }
        tracing::info!("stopping");
        if self.settings.flatten_on_stop() {
            let commands = self.engine.flatten(self.now());
            self.execute(commands).await?;
        }
        market.control.shutdown().await;
        user.control.shutdown().await;
        self.journal.sync()?;
        self.ready = false;
        self.write_status();
        self.notifier.send(Notification::new(Kind::Trade, format!("{agent} stopped"), "graceful stop"));
        Ok(())
    }

    /// Event time for an input that has none (a signal): the latest event's, or the wall clock
    /// when later.
    fn now(&self) -> i64 {
        self.engine.last_event_ms().max(wall_clock_ms())
    }

    /// Both reconciliation phases, each phase's commands carried out before the next.
    async fn reconcile(&mut self, adopt: bool) -> Result<(), RunError> {
        let now = wall_clock_ms();
        // Phase 1: every order the engine waits on, by client id.
        let mut commands = Vec::new();
        for (symbol, id) in self.engine.awaited_orders() {
            match self.venue.query(&symbol, &id).await? {
                Some(update) => commands.extend(self.engine.on_queried(&update, now)),
                None => commands.extend(self.engine.on_unknown_order(&id, &symbol, now)),
            }
        }
        self.execute(commands).await?;
        // Phase 2: holdings and resting orders, after the executions a gap hid.
        let holdings = Holdings {
            positions: self.venue.positions().await?,
            balances: self.venue.balances().await?,
            open_orders: self.venue.open_orders(None).await?,
        };
        let mut commands = Vec::new();
        for (symbol, since) in self.engine.history_wanted(&holdings) {
            match self.venue.fills_since(&symbol, since).await {
                Ok(fills) => {
                    for fill in &fills {
                        commands.extend(self.engine.on_fill(fill));
                    }
                }
                Err(VenueError::Unsupported { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.execute(commands).await?;
        let commands = self.engine.reconcile_holdings(&holdings, adopt, now)?;
        self.execute(commands).await
    }

    /// [`Self::reconcile`], put off to the next tick when the venue fails for now (5xx, 429,
    /// 418, a lost connection) rather than stopping the agent.
    async fn reconcile_or_retry(&mut self, adopt: bool) -> Result<(), RunError> {
        match self.reconcile(adopt).await {
            Err(RunError::Venue(e)) if e.is_retryable() => {
                tracing::warn!(error = %e, "reconciliation failed for now; retrying at the next tick");
                self.reconcile_due = true;
                Ok(())
            }
            other => other,
        }
    }

    /// Seeds each symbol's recent closed bars (no decisions are taken on them).
    async fn backfill(&mut self) -> Result<(), RunError> {
        let limit = self.engine.history_len().clamp(1, 1000);
        for symbol in self.engine.symbols() {
            let mut bars =
                self.venue.klines(&symbol, KlineQuery::latest(KlineInterval::H1, limit + 1)).await?;
            // The newest bar is still open.
            bars.pop();
            let commands = self.engine.seed_history(&symbol, &bars);
            self.execute(commands).await?;
        }
        Ok(())
    }

    /// After a market-stream gap: bars that closed meanwhile are fetched over REST. The newest
    /// is processed as a close (its decision is late but not skipped); any older ones only join
    /// the history, since deciding on them now would act on stale prices.
    async fn catch_up(&mut self) -> Result<(), RunError> {
        for symbol in self.engine.symbols() {
            let last = self.engine.last_bar_time(&symbol).unwrap_or(i64::MIN);
            let mut bars =
                self.venue.klines(&symbol, KlineQuery::latest(KlineInterval::H1, CATCH_UP_BARS)).await?;
            bars.pop(); // still open
            let missed: Vec<_> = bars.into_iter().filter(|b| b.open_time_ms > last).collect();
            let Some((newest, older)) = missed.split_last() else { continue };
            let commands = self.engine.seed_history(&symbol, older);
            self.execute(commands).await?;
            let commands = self.engine.on_bar_closed(&symbol, *newest);
            self.execute(commands).await?;
        }
        self.track_gathering();
        self.write_status();
        Ok(())
    }

    fn track_gathering(&mut self) {
        self.gathering_since = match (self.engine.is_gathering(), self.gathering_since) {
            (true, None) => Some(tokio::time::Instant::now()),
            (true, since) => since,
            (false, _) => None,
        };
    }

    async fn on_market(&mut self, event: MarketEvent) -> Result<(), RunError> {
        match event {
            MarketEvent::Kline(k) if k.closed => {
                self.close_timing =
                    Some(CloseTiming { seen: std::time::Instant::now(), leverage_wait: Duration::ZERO });
                let commands = self.engine.on_bar_closed(&k.symbol, k.bar);
                self.track_gathering();
                self.execute(commands).await?;
                // While the engine waits for the other symbols' bars of this open time, the
                // status (fsynced) is not rewritten: that would hold back the frames that complete
                // the bar, and the decision with them. It is written once the bar is decided (or
                // at the next tick).
                if !self.engine.is_gathering() {
                    self.write_status();
                }
            }
            MarketEvent::Kline(k) => {
                let commands = self.engine.on_bar_forming(&k.symbol, k.bar, k.time_exchange);
                if !commands.is_empty() {
                    self.execute(commands).await?;
                }
            }
            MarketEvent::MarkPrice(mark) => self.engine.on_mark(&mark),
            MarketEvent::StreamGap { reason } => tracing::warn!(?reason, "market stream gap"),
            MarketEvent::Reconnected => {
                tracing::info!("market stream back: catching up on the bars that closed meanwhile");
                self.catch_up_or_retry().await?;
            }
        }
        Ok(())
    }

    async fn on_user(&mut self, event: VenueEvent, adopt: bool) -> Result<(), RunError> {
        let commands = match event {
            VenueEvent::Order(update) => self.engine.on_order_update(&update),
            VenueEvent::Fill(fill) => self.engine.on_fill(&fill),
            VenueEvent::Account(update) => self.engine.on_account(&update),
            VenueEvent::StreamGap { reason } => {
                tracing::warn!(?reason, "user stream gap: the stream is not trusted until reconciled");
                Vec::new()
            }
            VenueEvent::Reconnected => {
                tracing::info!("user stream back: reconciling with the venue");
                self.reconcile_or_retry(adopt).await?;
                Vec::new()
            }
            VenueEvent::LeverageChanged { symbol, leverage } => {
                if forget_changed_leverage(&mut self.leverage_set, &symbol, leverage) {
                    tracing::warn!(%symbol, leverage, "the venue reports another leverage than the one set: it is set again before the next entry");
                }
                Vec::new()
            }
        };
        self.execute(commands).await
    }

    /// [`Self::catch_up`], put off to the next tick when the venue fails for now.
    async fn catch_up_or_retry(&mut self) -> Result<(), RunError> {
        match self.catch_up().await {
            Err(RunError::Venue(e)) if e.is_retryable() => {
                tracing::warn!(error = %e, "catching up on missed bars failed for now; retrying at the next tick");
                self.catch_up_due = true;
                Ok(())
            }
            other => other,
        }
    }

    async fn on_tick(&mut self) -> Result<(), RunError> {
        if std::mem::take(&mut self.catch_up_due) {
            self.catch_up_or_retry().await?;
        }
        if std::mem::take(&mut self.reconcile_due) {
            tracing::info!("reconciling with the venue (an order or a cancel did not go as sent)");
            self.reconcile_or_retry(false).await?;
        }
        if self.gathering_since.is_some_and(|t| t.elapsed() >= CLOSE_DEADLINE) {
            self.gathering_since = None;
            let commands = self.engine.flush_closes();
            self.execute(commands).await?;
        }
        let unknown = std::mem::take(&mut self.unknown);
        for (symbol, id) in unknown {
            match self.venue.query(&symbol, &id).await {
                Ok(Some(update)) => {
                    let commands = self.engine.on_queried(&update, wall_clock_ms());
                    self.execute(commands).await?;
                }
                Ok(None) => {
                    let commands = self.engine.on_place_failed(
                        &id,
                        &symbol,
                        "the venue does not know it",
                        wall_clock_ms(),
                    );
                    self.execute(commands).await?;
                }
                Err(e) => {
                    tracing::warn!(%symbol, %id, error = %e, "order outcome still unknown");
                    self.unknown.push((symbol, id));
                }
            }
        }
        self.write_status();
        Ok(())
    }

    /// Carries out commands in order; commands that answers produce are carried out after.
    async fn execute(&mut self, commands: Vec<Command>) -> Result<(), RunError> {
        let mut queue: VecDeque<Command> = commands.into();
        let mut skip_entry_of: Option<Symbol> = None;
        while let Some(command) = queue.pop_front() {
            match command {
                Command::Record { kind, ts, fields } => {
                    let durability = match kind {
                        // Fills and positions are synced before anything else happens. An
                        // order_sent record is written (a kill -9 cannot lose it) but not synced
                        // before the order goes out: an fsync there would double the decision
                        // latency, and after a power cut the reconciliation finds the order anyway.
                        "fill" | "position_opened" | "position_closed" | "breaker" => Durability::Sync,
                        _ => Durability::Buffered,
                    };
                    self.journal.append(kind, ts, &fields, durability)?;
                }
                Command::Alert { level, text } => {
                    let kind = match level {
                        AlertLevel::Trade => {
                            tracing::info!("{text}");
                            Kind::Trade
                        }
                        AlertLevel::Critical => {
                            tracing::warn!("{text}");
                            self.last_error = Some(text.clone());
                            Kind::Critical
                        }
                    };
                    self.notifier.send(Notification::new(kind, self.engine.agent(), text));
                }
                Command::SaveFile { name, contents } => {
                    let path = self.settings.run_dir().join(name);
                    if let Err(e) = crate::status::write_bytes_atomic(&path, contents.as_bytes()) {
                        tracing::error!(path = %path.display(), error = %e, "cannot save");
                        self.last_error = Some(format!("cannot save {}: {e}", path.display()));
                    }
                }
                Command::SetMarginMode { symbol, mode } => {
                    if let Err(e) = self.venue.set_margin_mode(&symbol, mode).await {
                        tracing::warn!(%symbol, error = %e, "could not set the margin mode");
                    }
                }
                Command::SetLeverage { symbol, leverage } => {
                    if self.leverage_set.get(&symbol) == Some(&leverage) {
                        continue;
                    }
                    if let Some(timing) = &self.close_timing {
                        tracing::debug!(decided_us = timing.seen.elapsed().as_micros(), %symbol, "setting leverage before the entry");
                    }
                    let asked = std::time::Instant::now();
                    let answer = self.venue.set_leverage(&symbol, leverage).await;
                    if let Some(timing) = &mut self.close_timing {
                        timing.leverage_wait += asked.elapsed();
                    }
                    if let Err(e) = answer {
                        tracing::warn!(%symbol, leverage, error = %e, "could not set leverage: an entry of this batch is skipped");
                        self.last_error = Some(format!("set leverage {symbol}: {e}"));
                        self.leverage_set.remove(&symbol);
                        skip_entry_of = Some(symbol);
                    } else {
                        self.leverage_set.insert(symbol, leverage);
                    }
                }
                Command::Place(order) => {
                    let is_entry = order.client_order_id.purpose() == Some(OrderPurpose::Entry);
                    if is_entry && skip_entry_of.as_ref() == Some(&order.symbol) {
                        skip_entry_of = None;
                        queue.extend(self.engine.on_place_failed(
                            &order.client_order_id,
                            &order.symbol,
                            "leverage could not be set",
                            wall_clock_ms(),
                        ));
                        continue;
                    }
                    // Close frame in, entry order handed to the venue client: what
                    // scripts/bench/decision_latency.sh reads. Logged once the order is out, so
                    // that writing the log line does not delay it.
                    let latency = if is_entry { self.close_timing.take() } else { None }
                        .map(|timing| (timing.seen.elapsed(), timing.leverage_wait, order.symbol.clone()));
                    queue.extend(self.place(order).await);
                    if let Some((decided, waited, symbol)) = latency {
                        tracing::info!(
                            decision_latency_us = decided.as_micros(),
                            leverage_wait_us = waited.as_micros(),
                            %symbol,
                            "entry decided"
                        );
                    }
                }
                Command::Reconcile => self.reconcile_due = true,
                Command::Cancel { symbol, id } => {
                    match self.venue.cancel(&symbol, &id).await {
                        Err(e) if e.is_retryable() => {
                            // Left resting, it could act on a later position: the reconciliation
                            // cancels what the books no longer track.
                            tracing::warn!(%symbol, %id, error = %e, "cancel failed for now; reconciling at the next tick");
                            self.reconcile_due = true;
                        }
                        Err(e) => {
                            tracing::debug!(%symbol, %id, error = %e, "cancel: already gone or refused")
                        }
                        Ok(_) => {}
                    }
                }
            }
        }
        Ok(())
    }

    async fn place(&mut self, order: OrderRequest) -> Vec<Command> {
        match self.venue.place(&order).await {
            Ok(ack) => {
                let mut out = self.engine.on_order_update(&ack.order);
                for fill in &ack.fills {
                    out.extend(self.engine.on_fill(fill));
                }
                out
            }
            Err(e) if e.is_unknown_outcome() => {
                tracing::warn!(id = %order.client_order_id, error = %e, "order outcome unknown: will query, not resend");
                self.unknown.push((order.symbol.clone(), order.client_order_id.clone()));
                Vec::new()
            }
            Err(e) => {
                if e.venue_code() == Some(-2022) {
                    // A reduce-only order refused: the venue's position is not what our books
                    // say (it closed meanwhile). Reconcile at the next tick rather than guess.
                    self.reconcile_due = true;
                }
                self.last_error = Some(format!("{}: {e}", order.client_order_id));
                self.engine.on_place_failed(
                    &order.client_order_id,
                    &order.symbol,
                    &e.to_string(),
                    wall_clock_ms(),
                )
            }
        }
    }

    fn reload(&mut self) {
        match self.settings.reload() {
            Ok(settings) => {
                self.engine.set_params(settings.params());
                tracing::info!("SIGHUP: config reloaded");
                self.settings = settings;
            }
            Err(e) => {
                tracing::error!("SIGHUP: the new config is refused, the old one stays: {e}");
                self.last_error = Some(format!("reload refused: {e}"));
            }
        }
    }

    fn write_status(&mut self) {
        let status = self.engine.status(&StatusContext {
            mode: self.settings.mode().to_owned(),
            venue: self.settings.venue_name(),
            started_ms: self.started_ms,
            ready: self.ready,
            last_error: self.last_error.clone(),
        });
        if let Err(e) = status.write(&self.settings.status_path()) {
            tracing::error!(error = %e, "cannot write the status snapshot");
        }
    }
}

/// The latest close, from its closed-kline frame's arrival to its first entry.
#[derive(Debug, Clone, Copy)]
struct CloseTiming {
    /// When the frame arrived.
    seen: std::time::Instant,
    /// Time spent since on set-leverage answers: the venue's part of the decision latency.
    leverage_wait: Duration,
}

/// A leverage change the venue reported for `symbol` (someone changed it by hand, or it is the
/// echo of our own change). The leverage remembered as set is kept only when it is the reported
/// one; otherwise it is forgotten, so that the next entry sets its own before it goes out. The
/// reported value is not remembered instead: the event of an earlier change can arrive after
/// the answer to a later one. Returns true when forgotten.
fn forget_changed_leverage(set: &mut HashMap<Symbol, u32>, symbol: &Symbol, leverage: u32) -> bool {
    match set.get(symbol) {
        Some(known) if *known != leverage => {
            set.remove(symbol);
            true
        }
        _ => false,
    }
}

fn io(context: &str, source: std::io::Error) -> RunError {
    RunError::Io { context: context.to_owned(), source }
}

/// A fill rebuilt from an order query (used when fills were missed while the agent was down):
/// the venue's average price and filled quantity, the fee estimated at `fee_rate` in
/// `fee_asset`.
pub fn fill_from_query(update: &OrderUpdate, fee_rate: Decimal, fee_asset: &str) -> Option<Fill> {
    let price = update.avg_price?;
    let qty = update.filled_qty;
    qty.is_positive().then(|| Fill {
        client_order_id: update.client_order_id.clone(),
        trade_id: format!(
            "query-{}",
            update.venue_order_id.as_deref().unwrap_or(update.client_order_id.as_str())
        ),
        symbol: update.symbol.clone(),
        side: update.side,
        qty: Qty::new(qty.get()),
        price: Price::new(price.get()),
        fee: qty.get() * price.get() * fee_rate,
        fee_asset: fee_asset.to_owned(),
        time_exchange: update.time_exchange,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leverage_changed_on_the_venue_is_set_again_before_the_next_entry() {
        let btc = Symbol::new("BTCUSDT").unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        let mut set = HashMap::from([(btc.clone(), 10), (eth.clone(), 7)]);
        assert!(!forget_changed_leverage(&mut set, &btc, 10), "the echo of our own change");
        assert_eq!(set.get(&btc), Some(&10));
        assert!(forget_changed_leverage(&mut set, &btc, 3), "changed by hand");
        assert_eq!(set.get(&btc), None, "forgotten, not replaced: the next entry sets its own");
        assert!(!forget_changed_leverage(&mut set, &btc, 3), "nothing left to forget");
        assert_eq!(set.get(&eth), Some(&7), "other symbols untouched");
    }
}
