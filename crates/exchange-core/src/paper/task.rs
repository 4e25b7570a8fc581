//! The task that owns the paper broker (STYLE: one owner per piece of mutable state). It runs
//! the jobs the [`super::PaperVenue`] methods send it (each answers on its own one-shot reply),
//! feeds the broker the events of its own market stream, subscribes that stream to every symbol
//! the broker starts watching, restarts it should it ever end, and hands the broker's events to
//! every user stream.
//!
//! User streams: the broker's events go to each subscriber over an unbounded channel, and a small
//! forwarding task moves them into the bounded [`EventStream`] the caller reads. The owner task
//! therefore never waits on a slow reader, which would deadlock an agent that is itself waiting
//! on a `place` answer. What queues up is bounded by the account's own trading.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::broker::Broker;
use crate::venue::stream::StreamCommand;
use crate::venue::{
    EventStream, GapReason, KlineInterval, MarketEvent, MarketFeed, MarketStreamHandle, StreamControl,
    UserStreamHandle, VenueError, VenueEvent,
};

/// Capacity of the request channel to the owner task.
pub(super) const REQUEST_BUFFER: usize = 64;
/// Capacity of a user stream's event channel.
const USER_BUFFER: usize = 1024;
/// Capacity of a user stream's command channel.
const COMMAND_BUFFER: usize = 16;
/// Wait before restarting a market stream that ended.
const RESTART_AFTER: Duration = Duration::from_secs(1);

/// Work for the broker, run on the owner task.
pub(super) type Job = Box<dyn FnOnce(&mut Broker) + Send>;

/// A request to the owner task.
pub(super) enum Request {
    /// Run a job on the broker.
    Run(Job),
    /// Open a user stream: its events from now on.
    UserStream(oneshot::Sender<mpsc::UnboundedReceiver<VenueEvent>>),
}

/// Starts the owner task of `broker`, streaming prices through `inner`.
pub(super) fn spawn<V: MarketFeed + 'static>(broker: Broker, inner: Arc<V>) -> mpsc::Sender<Request> {
    let (tx, rx) = mpsc::channel(REQUEST_BUFFER);
    let owner = Owner {
        broker,
        inner,
        requests: rx,
        market: None,
        streams: BTreeSet::new(),
        users: Vec::new(),
        restart_at: None,
    };
    tokio::spawn(owner.run());
    tx
}

struct Owner<V> {
    broker: Broker,
    inner: Arc<V>,
    requests: mpsc::Receiver<Request>,
    market: Option<MarketStreamHandle>,
    /// Every stream the broker needs.
    streams: BTreeSet<String>,
    users: Vec<mpsc::UnboundedSender<VenueEvent>>,
    restart_at: Option<Instant>,
}

async fn next_market(market: &mut Option<MarketStreamHandle>) -> Option<MarketEvent> {
    match market {
        Some(m) => m.events.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl<V: MarketFeed + 'static> Owner<V> {
    async fn run(mut self) {
        loop {
            self.subscribe_new().await;
            tokio::select! {
                request = self.requests.recv() => match request {
                    Some(Request::Run(job)) => job(&mut self.broker),
                    Some(Request::UserStream(reply)) => {
                        let (tx, rx) = mpsc::unbounded_channel();
                        self.users.push(tx);
                        let _ = reply.send(rx);
                    }
                    // Every PaperVenue handle is gone.
                    None => break,
                },
                event = next_market(&mut self.market) => match event {
                    Some(event) => self.broker.on_market(&event),
                    None => {
                        tracing::error!("paper broker: its market stream stopped; restarting it");
                        self.market = None;
                        self.broker.on_market(&MarketEvent::StreamGap { reason: GapReason::Disconnected });
                        self.restart_at = Some(Instant::now() + RESTART_AFTER);
                    }
                },
                () = sleep_until(self.restart_at) => {
                    self.restart_at = None;
                    self.start_market(self.streams.iter().cloned().collect()).await;
                }
            }
            self.deliver();
        }
        if let Some(market) = self.market.take() {
            market.control.shutdown().await;
        }
    }

    /// Subscribes the market stream to the symbols the broker started watching.
    async fn subscribe_new(&mut self) {
        let mut fresh = Vec::new();
        for symbol in self.broker.take_new_symbols() {
            let names = [
                Some(self.inner.kline_stream(&symbol, KlineInterval::M1)),
                self.inner.mark_price_stream(&symbol),
            ];
            fresh.extend(names.into_iter().flatten().filter(|n| self.streams.insert(n.clone())));
        }
        if fresh.is_empty() || self.restart_at.is_some() {
            return;
        }
        match &self.market {
            Some(market) => {
                // Not awaited here: the market task may be waiting for us to take an event.
                let control = market.control.clone();
                tokio::spawn(async move {
                    if let Err(error) = control.subscribe(fresh).await {
                        tracing::warn!(%error, "paper broker: could not subscribe to prices");
                    }
                });
            }
            None => self.start_market(self.streams.iter().cloned().collect()).await,
        }
    }

    async fn start_market(&mut self, streams: Vec<String>) {
        if streams.is_empty() {
            return;
        }
        match self.inner.start_market_stream(streams).await {
            Ok(market) => self.market = Some(market),
            Err(error) => {
                tracing::error!(%error, "paper broker: cannot start its market stream; retrying");
                self.restart_at = Some(Instant::now() + RESTART_AFTER);
            }
        }
    }

    /// Hands the broker's new events to every user stream still open.
    fn deliver(&mut self) {
        for event in self.broker.take_events() {
            self.users.retain(|user| user.send(event.clone()).is_ok());
        }
    }
}

/// A user stream over `events`: a bounded [`EventStream`] fed by a forwarding task, and a
/// control handle whose shutdown ends it (subscriptions are not supported on user streams).
pub(super) fn user_stream(events: mpsc::UnboundedReceiver<VenueEvent>) -> UserStreamHandle {
    let (event_tx, event_rx) = mpsc::channel(USER_BUFFER);
    let (command_tx, command_rx) = mpsc::channel(COMMAND_BUFFER);
    tokio::spawn(forward(events, event_tx, command_rx));
    UserStreamHandle { events: EventStream::new(event_rx), control: StreamControl::new(command_tx) }
}

async fn forward(
    mut from: mpsc::UnboundedReceiver<VenueEvent>,
    to: mpsc::Sender<VenueEvent>,
    mut commands: mpsc::Receiver<StreamCommand>,
) {
    let mut controlled = true;
    loop {
        tokio::select! {
            event = from.recv() => match event {
                Some(event) => {
                    if to.send(event).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            command = commands.recv(), if controlled => match command {
                Some(StreamCommand::Shutdown(reply)) => {
                    let _ = reply.send(());
                    return;
                }
                Some(StreamCommand::Subscribe(_, reply) | StreamCommand::Unsubscribe(_, reply)) => {
                    let _ = reply.send(Err(VenueError::Unsupported { what: "subscriptions on a user-data stream" }));
                }
                None => controlled = false,
            },
        }
    }
}
