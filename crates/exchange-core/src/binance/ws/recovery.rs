//! USD-M user-stream recovery: the listenKey's life (PROTOCOL.md §4.4).
//!
//! Venue facts: `POST /fapi/v1/listenKey` creates a key (or returns the active one, extended);
//! a key lives 60 minutes; `PUT` extends it by 60 minutes and answers `-1125` "This listenKey
//! does not exist." once it is gone, after which only a new key (POST) brings events back; the
//! stream announces the end with `listenKeyExpired`. We extend every 30 minutes and rotate on
//! `-1125` or `listenKeyExpired`; the task then reconnects on the new key and reports the gap.
//! The key is a bearer credential for the stream: it is never logged.

use crate::binance::usdm::BinanceUsdmRest;
use crate::venue::VenueError;

/// What a keepalive did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// The key was extended.
    Extended,
    /// The key was gone (`-1125`) and a new one was created: reconnect on it.
    Rotated,
}

/// Holds the current listenKey and renews it.
#[derive(Debug)]
pub struct ListenKeyKeeper {
    rest: BinanceUsdmRest,
    key: String,
}

impl ListenKeyKeeper {
    /// Creates a key.
    ///
    /// # Errors
    /// Any error of `POST /fapi/v1/listenKey`.
    pub async fn create(rest: BinanceUsdmRest) -> Result<Self, VenueError> {
        let key = rest.create_listen_key().await?.listen_key;
        tracing::info!("listenKey created");
        Ok(Self { rest, key })
    }

    /// The current key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Extends the key; on `-1125` creates a new one.
    ///
    /// # Errors
    /// Any other error of the keepalive, or an error creating the new key.
    pub async fn keepalive(&mut self) -> Result<KeepAlive, VenueError> {
        match self.rest.keepalive_listen_key().await {
            Ok(_) => Ok(KeepAlive::Extended),
            Err(VenueError::Rejected { code: -1125, .. }) => {
                tracing::warn!("listenKey no longer exists (-1125); creating a new one");
                self.rotate().await?;
                Ok(KeepAlive::Rotated)
            }
            Err(error) => Err(error),
        }
    }

    /// Replaces the key with a new one (`POST`).
    ///
    /// # Errors
    /// Any error of `POST /fapi/v1/listenKey`.
    pub async fn rotate(&mut self) -> Result<(), VenueError> {
        self.key = self.rest.create_listen_key().await?.listen_key;
        tracing::info!("listenKey rotated");
        Ok(())
    }

    /// Closes the key (`DELETE`), logging a failure.
    pub async fn close(&self) {
        if let Err(error) = self.rest.close_listen_key().await {
            tracing::warn!(%error, "closing the listenKey failed");
        }
    }
}
