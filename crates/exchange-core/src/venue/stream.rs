//! What a running stream hands back: the receiving end of its events ([`EventStream`]) and a
//! cloneable control handle ([`StreamControl`]) that talks to the task owning the socket over a
//! bounded channel, each command answered on a one-shot reply.

use tokio::sync::{mpsc, oneshot};

use super::error::VenueError;

/// A command to the task that owns a socket.
#[derive(Debug)]
pub(crate) enum StreamCommand {
    /// Add streams (market feeds only).
    Subscribe(Vec<String>, oneshot::Sender<Result<(), VenueError>>),
    /// Remove streams (market feeds only).
    Unsubscribe(Vec<String>, oneshot::Sender<Result<(), VenueError>>),
    /// Close the socket and end the task.
    Shutdown(oneshot::Sender<()>),
}

/// The receiving end of a stream's events.
#[derive(Debug)]
pub struct EventStream<E> {
    rx: mpsc::Receiver<E>,
}

impl<E> EventStream<E> {
    pub(crate) fn new(rx: mpsc::Receiver<E>) -> Self {
        Self { rx }
    }

    /// The next event; `None` once the stream has shut down.
    pub async fn recv(&mut self) -> Option<E> {
        self.rx.recv().await
    }
}

/// A cloneable handle to the task that owns a stream's socket.
#[derive(Debug, Clone)]
pub struct StreamControl {
    tx: mpsc::Sender<StreamCommand>,
}

impl StreamControl {
    pub(crate) fn new(tx: mpsc::Sender<StreamCommand>) -> Self {
        Self { tx }
    }

    /// Adds streams (`btcusdt@kline_1h`); they are also resubscribed after every reconnect.
    ///
    /// # Errors
    /// [`VenueError::Closed`] when the task has stopped; the venue's error when it refused.
    pub async fn subscribe(&self, streams: Vec<String>) -> Result<(), VenueError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(StreamCommand::Subscribe(streams, reply)).await.map_err(|_| VenueError::Closed)?;
        answer.await.map_err(|_| VenueError::Closed)?
    }

    /// Removes streams.
    ///
    /// # Errors
    /// As [`StreamControl::subscribe`].
    pub async fn unsubscribe(&self, streams: Vec<String>) -> Result<(), VenueError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(StreamCommand::Unsubscribe(streams, reply)).await.map_err(|_| VenueError::Closed)?;
        answer.await.map_err(|_| VenueError::Closed)?
    }

    /// Closes the socket (and, for a listenKey stream, the key) and waits for the task to end.
    /// Does nothing when the task has already stopped.
    pub async fn shutdown(&self) {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(StreamCommand::Shutdown(reply)).await.is_ok() {
            let _ = answer.await;
        }
    }
}

/// A running user-data stream: its events and its control handle.
#[derive(Debug)]
pub struct UserStreamHandle {
    /// Orders, fills, account updates, gaps.
    pub events: EventStream<super::VenueEvent>,
    /// Shutdown.
    pub control: StreamControl,
}

/// A running market-data stream: its events and its control handle.
#[derive(Debug)]
pub struct MarketStreamHandle {
    /// Klines, mark prices, gaps.
    pub events: EventStream<super::MarketEvent>,
    /// Subscribe, unsubscribe, shutdown.
    pub control: StreamControl,
}
