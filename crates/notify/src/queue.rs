//! One channel's bounded queue: pushing never waits and never fails (a full queue drops its
//! oldest message and counts it), one worker pops in order, and the counters say what became of
//! every message.
//!
//! The lock is held only to push or pop one element of a preallocated ring buffer, never across
//! an `.await`, so a sender waits at most for another push or pop, never for the network.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use crate::event::{Channel, Notification};

/// What happened to one channel's messages so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Passed to `send`. Always `delivered + dropped + failed + queued`, plus one while a
    /// message is in flight.
    pub accepted: u64,
    /// Delivered (every part of the message answered with success).
    pub delivered: u64,
    /// Dropped without being sent: pushed out of a full queue by a newer message, sent after
    /// shutdown began, or still queued when the shutdown deadline passed.
    pub dropped: u64,
    /// Given up: rejected by the service, out of attempts, or cut off in flight by the shutdown
    /// deadline.
    pub failed: u64,
    /// Waiting in the queue now.
    pub queued: u64,
}

/// Whether a push pushed another message out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued with room to spare.
    Queued,
    /// Queued; the oldest waiting message was dropped to make room. `dropped` is the channel's
    /// total so far.
    DroppedOldest { dropped: u64 },
    /// Not queued: the queue is closed (shutdown began).
    Closed,
}

#[derive(Debug)]
struct State {
    items: VecDeque<Notification>,
    closed: bool,
}

/// A channel's queue and counters, shared by the senders and the channel's worker.
pub(crate) struct Queue {
    channel: Channel,
    capacity: usize,
    state: Mutex<State>,
    wake: Notify,
    accepted: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
}

impl fmt::Debug for Queue {
    /// The channel, capacity and counters; not the queued messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("channel", &self.channel)
            .field("capacity", &self.capacity)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Queue {
    /// An empty queue holding at most `capacity` messages (at least 1).
    pub fn new(channel: Channel, capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            channel,
            capacity,
            state: Mutex::new(State { items: VecDeque::with_capacity(capacity), closed: false }),
            wake: Notify::new(),
            accepted: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    /// The channel this queue feeds.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// Appends `message`, dropping the oldest waiting one when full. Never waits on the worker.
    pub fn push(&self, message: Notification) -> Pushed {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        if state.closed {
            drop(state);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Pushed::Closed;
        }
        let pushed_out = if state.items.len() >= self.capacity { state.items.pop_front() } else { None };
        state.items.push_back(message);
        drop(state);
        self.wake.notify_one();
        match pushed_out {
            Some(_) => Pushed::DroppedOldest { dropped: self.dropped.fetch_add(1, Ordering::Relaxed) + 1 },
            None => Pushed::Queued,
        }
    }

    /// The oldest waiting message, waiting for one if none is; `None` once the queue is closed
    /// and empty.
    pub async fn pop(&self) -> Option<Notification> {
        loop {
            {
                let mut state = self.lock();
                if let Some(message) = state.items.pop_front() {
                    return Some(message);
                }
                if state.closed {
                    return None;
                }
            }
            // A push between the unlock and here leaves a permit, so this wakes at once.
            self.wake.notified().await;
        }
    }

    /// Refuses further pushes; the worker finishes what is queued, then `pop` returns `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// Empties the queue, counting what it held as dropped; returns how many that was.
    pub fn discard_all(&self) -> u64 {
        let discarded = u64::try_from(self.lock().items.drain(..).count()).unwrap_or(u64::MAX);
        self.dropped.fetch_add(discarded, Ordering::Relaxed);
        discarded
    }

    /// Counts a message as delivered.
    pub fn count_delivered(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a message as given up.
    pub fn count_failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Messages dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The counters now.
    pub fn stats(&self) -> ChannelStats {
        let queued = u64::try_from(self.lock().items.len()).unwrap_or(u64::MAX);
        ChannelStats {
            accepted: self.accepted.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            queued,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock, and the state is valid between any two
        // statements anyway, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Kind;

    fn message(n: usize) -> Notification {
        Notification::new(Kind::Trade, format!("m{n}"), "")
    }

    fn titles(queue: &Queue) -> Vec<String> {
        queue.lock().items.iter().map(|m| m.title.clone()).collect()
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let queue = Queue::new(Channel::Telegram, 3);
        let pushed: Vec<Pushed> = (0..5).map(|n| queue.push(message(n))).collect();
        assert_eq!(
            pushed,
            [
                Pushed::Queued,
                Pushed::Queued,
                Pushed::Queued,
                Pushed::DroppedOldest { dropped: 1 },
                Pushed::DroppedOldest { dropped: 2 }
            ]
        );
        assert_eq!(titles(&queue), ["m2", "m3", "m4"]);
        let stats = queue.stats();
        assert_eq!((stats.accepted, stats.dropped, stats.queued), (5, 2, 3));
    }

    #[tokio::test]
    async fn pop_returns_in_order_then_none_after_close() {
        let queue = Queue::new(Channel::Discord, 4);
        queue.push(message(1));
        queue.push(message(2));
        queue.close();
        assert_eq!(queue.push(message(3)), Pushed::Closed);
        assert_eq!(queue.pop().await.map(|m| m.title), Some("m1".to_owned()));
        assert_eq!(queue.pop().await.map(|m| m.title), Some("m2".to_owned()));
        assert_eq!(queue.pop().await, None);
        assert_eq!(
            queue.stats(),
            ChannelStats { accepted: 3, delivered: 0, dropped: 1, failed: 0, queued: 0 }
        );
    }

    #[tokio::test]
    async fn a_waiting_pop_wakes_on_push() {
        let queue = std::sync::Arc::new(Queue::new(Channel::Telegram, 2));
        let worker = tokio::spawn({
            let queue = queue.clone();
            async move { queue.pop().await }
        });
        tokio::task::yield_now().await;
        queue.push(message(7));
        assert_eq!(worker.await.unwrap().map(|m| m.title), Some("m7".to_owned()));
    }

    #[test]
    fn discard_all_counts_as_dropped() {
        let queue = Queue::new(Channel::Telegram, 8);
        (0..3).for_each(|n| {
            queue.push(message(n));
        });
        assert_eq!(queue.discard_all(), 3);
        assert_eq!((queue.dropped(), queue.stats().queued), (3, 0));
    }
}
