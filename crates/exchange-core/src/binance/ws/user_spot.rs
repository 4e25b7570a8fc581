//! The spot user-data task over the WebSocket API (PROTOCOL.md §4.4): spot listenKeys were
//! removed on 2026-02-20, so the task connects to the WS API and sends
//! `userDataStream.subscribe.signature` with `apiKey`, `timestamp` and an HMAC `signature` over
//! the params sorted by name (§1.4; works with any key type). The answer
//! `{"result":{"subscriptionId":n}}` starts the events, which arrive wrapped as
//! `{"subscriptionId":n,"event":{..}}` (`executionReport`, `outboundAccountPosition`).
//! `eventStreamTerminated` ends the subscription: the task reports the gap and subscribes again
//! on a new connection. A refused timestamp (`-1021`) resyncs the clock first.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::backoff::Backoff;
use super::socket::{Incoming, Socket};
use super::{COMMAND_BUFFER, WsConfig};
use crate::binance::http::BinanceHttp;
use crate::binance::parse::{SpotUserFrame, parse_spot_user_frame};
use crate::signing::binance::sign_ws_api;
use crate::venue::stream::StreamCommand;
use crate::venue::{EventStream, GapReason, StreamControl, UserStreamHandle, VenueError, VenueEvent};

/// How long to wait for the answer to the subscribe request.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts the spot user-data task on the WS API at `ws_api_url`.
///
/// # Errors
/// [`VenueError::Config`] without credentials; any error measuring the clock.
pub async fn spawn_spot_user_stream(
    http: BinanceHttp,
    ws_api_url: String,
    config: WsConfig,
) -> Result<UserStreamHandle, VenueError> {
    if http.credentials().is_none() {
        return Err(VenueError::Config("the spot user stream needs API credentials".into()));
    }
    http.sync_clock().await?;
    let (event_tx, event_rx) = mpsc::channel(config.event_buffer.max(1));
    let (command_tx, command_rx) = mpsc::channel(COMMAND_BUFFER);
    let (subscribed_tx, subscribed_rx) = oneshot::channel();
    let wait = config.connect_timeout + SUBSCRIBE_TIMEOUT;
    let task = SpotUserTask {
        http,
        url: ws_api_url,
        backoff: Backoff::new(config.backoff_base, config.backoff_max),
        config,
        events: event_tx,
        commands: command_rx,
        request_id: 0,
        first_subscription: Some(subscribed_tx),
    };
    tokio::spawn(task.run());
    // Return once the first subscription is confirmed, so that an order placed right after this
    // call has its events delivered. When it takes longer, the task reports `Reconnected` on its
    // first subscription (the caller reconciles).
    if tokio::time::timeout(wait, subscribed_rx).await.is_err() {
        tracing::warn!("spot user stream not subscribed yet; it will report Reconnected when it is");
    }
    Ok(UserStreamHandle { events: EventStream::new(event_rx), control: StreamControl::new(command_tx) })
}

struct SpotUserTask {
    http: BinanceHttp,
    url: String,
    backoff: Backoff,
    config: WsConfig,
    events: mpsc::Sender<VenueEvent>,
    commands: mpsc::Receiver<StreamCommand>,
    /// Told when the first subscription is confirmed; gone once used.
    first_subscription: Option<oneshot::Sender<()>>,
    request_id: u64,
}

enum End {
    Reconnect,
    Stop,
    Shutdown(oneshot::Sender<()>),
}

impl SpotUserTask {
    fn subscribe_request(&mut self) -> Result<String, VenueError> {
        let credentials =
            self.http.credentials().ok_or_else(|| VenueError::Config("no credentials".into()))?;
        let timestamp = self.http.venue_now_ms();
        let api_key = credentials.api_key.as_str();
        let signature =
            sign_ws_api(&credentials.secret, &[("apiKey", api_key), ("timestamp", &timestamp.to_string())]);
        self.request_id += 1;
        let request = serde_json::json!({
            "id": self.request_id.to_string(),
            "method": "userDataStream.subscribe.signature",
            "params": { "apiKey": api_key, "timestamp": timestamp, "signature": signature },
        });
        Ok(request.to_string())
    }

    /// Sends the subscribe request and waits for its answer; false when it failed.
    async fn subscribe(&mut self, socket: &mut Socket) -> bool {
        let request = match self.subscribe_request() {
            Ok(request) => request,
            Err(error) => {
                tracing::error!(%error, "cannot build the spot user-stream subscription");
                return false;
            }
        };
        if let Err(error) = socket.send_text(request).await {
            tracing::warn!(%error, "spot user-stream subscribe send failed");
            return false;
        }
        let answer = tokio::time::timeout(SUBSCRIBE_TIMEOUT, async {
            loop {
                match socket.next_text().await {
                    Incoming::Text(text) => match parse_spot_user_frame(&text) {
                        Ok(SpotUserFrame::Subscribed { subscription_id }) => return Ok(subscription_id),
                        Ok(SpotUserFrame::RequestFailed { code, msg }) => {
                            return Err(format!("code {code}: {msg}"));
                        }
                        Ok(other) => tracing::debug!(?other, "frame before the subscription answer"),
                        Err(error) => tracing::warn!(%error, "skipping a malformed frame"),
                    },
                    Incoming::Closed(reason) => return Err(format!("connection ended ({reason:?})")),
                }
            }
        })
        .await;
        match answer {
            Ok(Ok(subscription_id)) => {
                tracing::info!(subscription_id, "spot user stream subscribed");
                true
            }
            Ok(Err(reason)) => {
                tracing::warn!(%reason, "spot user-stream subscription refused");
                if reason.contains("-1021")
                    && let Err(error) = self.http.sync_clock().await
                {
                    tracing::warn!(%error, "clock resync failed");
                }
                false
            }
            Err(_) => {
                tracing::warn!("spot user-stream subscription not answered in time");
                false
            }
        }
    }

    async fn run(mut self) {
        let mut connected_before = false;
        loop {
            let mut socket = match Socket::connect(&self.url, &self.config).await {
                Ok(socket) => socket,
                Err(error) => {
                    tracing::warn!(%error, "spot user stream connect failed");
                    if !self.pause().await {
                        return;
                    }
                    continue;
                }
            };
            if !self.subscribe(&mut socket).await {
                socket.close().await;
                if !self.pause().await {
                    return;
                }
                continue;
            }
            self.backoff.reset();
            // The caller stopped waiting for the first subscription: events may have been missed.
            let late_first = self.first_subscription.take().is_some_and(|tx| tx.send(()).is_err());
            if (connected_before || late_first) && self.events.send(VenueEvent::Reconnected).await.is_err() {
                return;
            }
            connected_before = true;
            match self.serve(&mut socket).await {
                End::Reconnect => socket.close().await,
                End::Stop => {
                    socket.close().await;
                    return;
                }
                End::Shutdown(reply) => {
                    socket.close().await;
                    let _ = reply.send(());
                    return;
                }
            }
            if !self.pause().await {
                return;
            }
        }
    }

    async fn gap(&self, reason: GapReason) -> End {
        tracing::warn!(?reason, "spot user stream gap; the caller must reconcile");
        match self.events.send(VenueEvent::StreamGap { reason }).await {
            Ok(()) => End::Reconnect,
            Err(_) => End::Stop,
        }
    }

    async fn serve(&mut self, socket: &mut Socket) -> End {
        loop {
            tokio::select! {
                incoming = socket.next_text() => match incoming {
                    Incoming::Text(text) => match parse_spot_user_frame(&text) {
                        Ok(SpotUserFrame::Events(events)) => {
                            for event in events {
                                if self.events.send(event).await.is_err() {
                                    return End::Stop;
                                }
                            }
                        }
                        Ok(SpotUserFrame::Terminated) => return self.gap(GapReason::Terminated).await,
                        Ok(other) => tracing::debug!(?other, "spot user frame not used"),
                        Err(error) => tracing::warn!(%error, "skipping a malformed spot user frame"),
                    },
                    Incoming::Closed(reason) => return self.gap(reason).await,
                },
                command = self.commands.recv() => match command {
                    None => return End::Stop,
                    Some(StreamCommand::Shutdown(reply)) => return End::Shutdown(reply),
                    Some(StreamCommand::Subscribe(_, reply) | StreamCommand::Unsubscribe(_, reply)) => {
                        let _ = reply.send(Err(VenueError::Unsupported { what: "subscriptions on a user-data stream" }));
                    }
                },
            }
        }
    }

    async fn pause(&mut self) -> bool {
        let sleep = tokio::time::sleep(self.backoff.next_delay());
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                command = self.commands.recv() => match command {
                    None => return false,
                    Some(StreamCommand::Shutdown(reply)) => {
                        let _ = reply.send(());
                        return false;
                    }
                    Some(StreamCommand::Subscribe(_, reply) | StreamCommand::Unsubscribe(_, reply)) => {
                        let _ = reply.send(Err(VenueError::Unsupported { what: "subscriptions on a user-data stream" }));
                    }
                },
            }
        }
    }
}
