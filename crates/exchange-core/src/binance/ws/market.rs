//! The market-stream task: one combined-stream connection (`/stream?streams=a/b`, under
//! `/market` on USD-M) delivering klines and mark prices as [`MarketEvent`]s.
//!
//! The streams are in the URL, so every reconnect resubscribes all of them; streams added
//! while connected are also sent as a `SUBSCRIBE` frame. Frames that are not klines or mark
//! prices (answers, other events) are skipped; malformed ones are logged and skipped. With a
//! [`MarketCache`], every event is also recorded there as it is read (marks for the adapter's
//! market-order checks, the latest close for its entry latency).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::backoff::Backoff;
use super::socket::{Incoming, Socket};
use super::{COMMAND_BUFFER, WsConfig};
use crate::binance::cache::MarketCache;
use crate::binance::parse::parse_market_frame;
use crate::venue::stream::StreamCommand;
use crate::venue::{
    Endpoints, EventStream, MarketEvent, MarketStreamHandle, Product, StreamControl, VenueError,
};

/// Starts the market-stream task on `streams` (`btcusdt@kline_1h`, `btcusdt@markPrice`) and
/// returns once its first connection is up, so that every frame the venue sends from then on
/// reaches the caller. When that takes longer than the connect timeout, it returns anyway and
/// the task reports [`MarketEvent::Reconnected`] on its first connection (the caller catches up
/// on what it missed, as after any gap).
///
/// # Errors
/// Never at present; the signature leaves room for eager validation.
pub async fn spawn_market_stream(
    endpoints: Endpoints,
    product: Product,
    streams: Vec<String>,
    config: WsConfig,
) -> Result<MarketStreamHandle, VenueError> {
    spawn(endpoints, product, streams, config, None).await
}

/// As [`spawn_market_stream`], also recording every event in `cache` as it is read.
///
/// # Errors
/// As [`spawn_market_stream`].
pub async fn spawn_market_stream_with_cache(
    endpoints: Endpoints,
    product: Product,
    streams: Vec<String>,
    config: WsConfig,
    cache: Arc<MarketCache>,
) -> Result<MarketStreamHandle, VenueError> {
    spawn(endpoints, product, streams, config, Some(cache)).await
}

async fn spawn(
    endpoints: Endpoints,
    product: Product,
    streams: Vec<String>,
    config: WsConfig,
    cache: Option<Arc<MarketCache>>,
) -> Result<MarketStreamHandle, VenueError> {
    let (event_tx, event_rx) = mpsc::channel(config.event_buffer.max(1));
    let (command_tx, command_rx) = mpsc::channel(COMMAND_BUFFER);
    let (connected_tx, connected_rx) = oneshot::channel();
    let wait = config.connect_timeout;
    // With nothing to subscribe to there is no connection to wait for.
    let first_connect = (!streams.is_empty()).then_some(connected_tx);
    let task = MarketTask {
        endpoints,
        product,
        streams: streams.into_iter().collect(),
        backoff: Backoff::new(config.backoff_base, config.backoff_max),
        config,
        events: event_tx,
        commands: command_rx,
        next_id: 1,
        cache,
        first_connect,
    };
    tokio::spawn(task.run());
    if tokio::time::timeout(wait, connected_rx).await.is_err() {
        tracing::warn!("market stream not connected yet; it will report Reconnected when it is");
    }
    Ok(MarketStreamHandle { events: EventStream::new(event_rx), control: StreamControl::new(command_tx) })
}

struct MarketTask {
    endpoints: Endpoints,
    product: Product,
    streams: BTreeSet<String>,
    backoff: Backoff,
    config: WsConfig,
    events: mpsc::Sender<MarketEvent>,
    commands: mpsc::Receiver<StreamCommand>,
    next_id: u64,
    cache: Option<Arc<MarketCache>>,
    /// Told when the first connection is up; gone once used.
    first_connect: Option<oneshot::Sender<()>>,
}

/// What to do after a command.
enum Flow {
    Continue,
    Stop,
}

impl MarketTask {
    async fn run(mut self) {
        let mut connected_before = false;
        loop {
            if self.streams.is_empty() {
                match self.commands.recv().await {
                    Some(command) => {
                        if let Flow::Stop = self.offline_command(command) {
                            return;
                        }
                        continue;
                    }
                    None => return,
                }
            }
            let list: Vec<String> = self.streams.iter().cloned().collect();
            let url = self.endpoints.market_stream_url(self.product, &list);
            let mut socket = match Socket::connect(&url, &self.config).await {
                Ok(socket) => socket,
                Err(error) => {
                    tracing::warn!(%error, "market stream connect failed");
                    if let Flow::Stop = self.pause().await {
                        return;
                    }
                    continue;
                }
            };
            self.backoff.reset();
            // The caller stopped waiting for the first connection: frames may have been missed.
            let late_first = self.first_connect.take().is_some_and(|tx| tx.send(()).is_err());
            if (connected_before || late_first) && self.events.send(MarketEvent::Reconnected).await.is_err() {
                return;
            }
            connected_before = true;
            match self.serve(&mut socket).await {
                Flow::Stop => {
                    socket.close().await;
                    return;
                }
                Flow::Continue => {}
            }
            if let Flow::Stop = self.pause().await {
                return;
            }
        }
    }

    /// Runs one connection until it ends (`Continue`: reconnect) or the task must stop.
    async fn serve(&mut self, socket: &mut Socket) -> Flow {
        loop {
            tokio::select! {
                incoming = socket.next_text() => match incoming {
                    Incoming::Text(text) => {
                        let read_at = Instant::now();
                        match parse_market_frame(&text) {
                            Ok(Some(event)) => {
                                if let Some(cache) = &self.cache {
                                    cache.record(&event, read_at);
                                }
                                if self.events.send(event).await.is_err() {
                                    return Flow::Stop;
                                }
                            }
                            Ok(None) => {}
                            Err(error) => tracing::warn!(%error, "skipping a malformed market frame"),
                        }
                    }
                    Incoming::Closed(reason) => {
                        tracing::warn!(?reason, "market stream connection ended");
                        return match self.events.send(MarketEvent::StreamGap { reason }).await {
                            Ok(()) => Flow::Continue,
                            Err(_) => Flow::Stop,
                        };
                    }
                },
                command = self.commands.recv() => match command {
                    None => return Flow::Stop,
                    Some(StreamCommand::Shutdown(reply)) => {
                        let _ = reply.send(());
                        return Flow::Stop;
                    }
                    Some(StreamCommand::Subscribe(streams, reply)) => {
                        let added: Vec<String> = streams.into_iter().filter(|s| self.streams.insert(s.clone())).collect();
                        let result = self.control_frame(socket, "SUBSCRIBE", added).await;
                        let _ = reply.send(result);
                    }
                    Some(StreamCommand::Unsubscribe(streams, reply)) => {
                        let removed: Vec<String> = streams.into_iter().filter(|s| self.streams.remove(s)).collect();
                        let result = self.control_frame(socket, "UNSUBSCRIBE", removed).await;
                        let _ = reply.send(result);
                    }
                },
            }
        }
    }

    async fn control_frame(
        &mut self,
        socket: &mut Socket,
        method: &str,
        streams: Vec<String>,
    ) -> Result<(), VenueError> {
        if streams.is_empty() {
            return Ok(());
        }
        let frame = serde_json::json!({ "method": method, "params": streams, "id": self.next_id });
        self.next_id += 1;
        // A failed write ends the connection soon; the reconnect URL carries the new list.
        socket.send_text(frame.to_string()).await
    }

    /// Handles a command while not connected.
    fn offline_command(&mut self, command: StreamCommand) -> Flow {
        match command {
            StreamCommand::Shutdown(reply) => {
                let _ = reply.send(());
                Flow::Stop
            }
            StreamCommand::Subscribe(streams, reply) => {
                self.streams.extend(streams);
                let _ = reply.send(Ok(()));
                Flow::Continue
            }
            StreamCommand::Unsubscribe(streams, reply) => {
                for s in &streams {
                    self.streams.remove(s);
                }
                let _ = reply.send(Ok(()));
                Flow::Continue
            }
        }
    }

    /// Waits out the next backoff delay, still answering commands.
    async fn pause(&mut self) -> Flow {
        let sleep = tokio::time::sleep(self.backoff.next_delay());
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return Flow::Continue,
                command = self.commands.recv() => match command {
                    None => return Flow::Stop,
                    Some(command) => {
                        if let Flow::Stop = self.offline_command(command) {
                            return Flow::Stop;
                        }
                    }
                },
            }
        }
    }
}
