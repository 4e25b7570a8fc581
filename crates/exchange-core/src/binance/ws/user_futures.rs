//! The USD-M user-data task: a connection to `<root>/private/ws/<listenKey>` (route
//! configurable, [`crate::venue::UserStreamRoute`]) delivering orders, algo orders, fills and
//! account updates as [`VenueEvent`]s, with the listenKey kept alive and rotated by
//! [`ListenKeyKeeper`].
//!
//! Every loss of continuity is reported: [`VenueEvent::StreamGap`] when the socket ends or the
//! key expires, [`VenueEvent::Reconnected`] when events flow again.

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use super::backoff::Backoff;
use super::recovery::{KeepAlive, ListenKeyKeeper};
use super::socket::{Incoming, Socket};
use super::{COMMAND_BUFFER, WsConfig};
use crate::binance::parse::{UsdmUserFrame, parse_usdm_user_frame};
use crate::binance::usdm::BinanceUsdmRest;
use crate::venue::stream::StreamCommand;
use crate::venue::{
    Endpoints, EventStream, GapReason, StreamControl, UserStreamHandle, VenueError, VenueEvent,
};

/// Creates a listenKey and starts the user-data task on it.
///
/// # Errors
/// Any error creating the first listenKey (bad key, venue down): nothing is started.
pub async fn spawn_usdm_user_stream(
    rest: BinanceUsdmRest,
    endpoints: Endpoints,
    config: WsConfig,
) -> Result<UserStreamHandle, VenueError> {
    let keeper = ListenKeyKeeper::create(rest).await?;
    let (event_tx, event_rx) = mpsc::channel(config.event_buffer.max(1));
    let (command_tx, command_rx) = mpsc::channel(COMMAND_BUFFER);
    let (connected_tx, connected_rx) = oneshot::channel();
    let wait = config.connect_timeout;
    let task = UserTask {
        keeper,
        endpoints,
        backoff: Backoff::new(config.backoff_base, config.backoff_max),
        config,
        events: event_tx,
        commands: command_rx,
        first_connect: Some(connected_tx),
    };
    tokio::spawn(task.run());
    // The venue sends account events only to connected sockets: return once the first one is
    // up, so that an order placed right after this call has its events delivered. When it takes
    // longer, the task reports `Reconnected` on its first connection (the caller reconciles).
    if tokio::time::timeout(wait, connected_rx).await.is_err() {
        tracing::warn!("user stream not connected yet; it will report Reconnected when it is");
    }
    Ok(UserStreamHandle { events: EventStream::new(event_rx), control: StreamControl::new(command_tx) })
}

struct UserTask {
    keeper: ListenKeyKeeper,
    endpoints: Endpoints,
    backoff: Backoff,
    config: WsConfig,
    events: mpsc::Sender<VenueEvent>,
    commands: mpsc::Receiver<StreamCommand>,
    /// Told when the first connection is up; gone once used.
    first_connect: Option<oneshot::Sender<()>>,
}

/// How a connection ended.
enum End {
    /// Reconnect (the gap was reported).
    Reconnect,
    /// The key expired: rotate, then reconnect.
    Expired,
    /// Stop the task.
    Stop,
    /// Stop the task and confirm to the caller once the key is closed.
    Shutdown(oneshot::Sender<()>),
}

impl UserTask {
    async fn run(mut self) {
        let mut connected_before = false;
        let mut failures = 0u32;
        loop {
            let url = self.endpoints.user_stream_url(self.keeper.key());
            let mut socket = match Socket::connect(&url, &self.config).await {
                Ok(socket) => socket,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "user stream connect failed");
                    // Repeated failures may mean the key is gone: try a fresh one.
                    if failures.is_multiple_of(3)
                        && let Err(error) = self.keeper.rotate().await
                    {
                        tracing::warn!(%error, "listenKey rotation failed");
                    }
                    if !self.pause().await {
                        return;
                    }
                    continue;
                }
            };
            failures = 0;
            self.backoff.reset();
            // The caller stopped waiting for the first connection: events may have been missed.
            let late_first = self.first_connect.take().is_some_and(|tx| tx.send(()).is_err());
            if (connected_before || late_first) && self.events.send(VenueEvent::Reconnected).await.is_err() {
                return;
            }
            connected_before = true;
            match self.serve(&mut socket).await {
                End::Stop => {
                    socket.close().await;
                    self.keeper.close().await;
                    return;
                }
                End::Shutdown(reply) => {
                    socket.close().await;
                    self.keeper.close().await;
                    let _ = reply.send(());
                    return;
                }
                End::Reconnect => {}
                End::Expired => {
                    socket.close().await;
                    while let Err(error) = self.keeper.rotate().await {
                        tracing::warn!(%error, "listenKey rotation failed; retrying");
                        if !self.pause().await {
                            return;
                        }
                    }
                    continue;
                }
            }
            if !self.pause().await {
                return;
            }
        }
    }

    async fn gap(&self, reason: GapReason) -> bool {
        tracing::warn!(?reason, "user stream gap; the caller must reconcile");
        self.events.send(VenueEvent::StreamGap { reason }).await.is_ok()
    }

    async fn serve(&mut self, socket: &mut Socket) -> End {
        let period = self.config.listen_key_keepalive;
        let mut keepalive = tokio::time::interval_at(Instant::now() + period, period);
        keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                incoming = socket.next_text() => match incoming {
                    Incoming::Text(text) => match parse_usdm_user_frame(&text) {
                        Ok(UsdmUserFrame::Events(events)) => {
                            for event in events {
                                if self.events.send(event).await.is_err() {
                                    return End::Stop;
                                }
                            }
                        }
                        Ok(UsdmUserFrame::ListenKeyExpired) => {
                            return if self.gap(GapReason::ListenKeyExpired).await { End::Expired } else { End::Stop };
                        }
                        Ok(UsdmUserFrame::Ignored(kind)) => tracing::debug!(kind, "user event not used"),
                        Err(error) => tracing::warn!(%error, "skipping a malformed user-data frame"),
                    },
                    Incoming::Closed(reason) => {
                        return if self.gap(reason).await { End::Reconnect } else { End::Stop };
                    }
                },
                _ = keepalive.tick() => match self.keeper.keepalive().await {
                    Ok(KeepAlive::Extended) => tracing::debug!("listenKey extended"),
                    Ok(KeepAlive::Rotated) => {
                        return if self.gap(GapReason::ListenKeyExpired).await { End::Reconnect } else { End::Stop };
                    }
                    Err(error) => tracing::warn!(%error, "listenKey keepalive failed; will retry"),
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

    /// Waits out the next backoff delay; false when the task must stop.
    async fn pause(&mut self) -> bool {
        let sleep = tokio::time::sleep(self.backoff.next_delay());
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                command = self.commands.recv() => match command {
                    None => return false,
                    Some(StreamCommand::Shutdown(reply)) => {
                        self.keeper.close().await;
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
