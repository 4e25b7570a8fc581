//! The dispatcher against a service that does not answer: `send` returns at once and a full
//! queue drops its oldest messages, shutdown gives up at its deadline, and secrets stay out of
//! Debug output and logs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{Channel, Kind, Notification, Notifier};
use support::{Reply, Server, TOKEN, config};

const DRAIN: Duration = Duration::from_secs(10);

fn trade(n: usize) -> Notification {
    Notification::new(Kind::Trade, format!("m{n}"), "")
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_and_the_rest_arrive_in_order() {
    let telegram = Server::start(Reply::telegram_ok()).await;
    telegram.hold();
    let mut config = config(Some(&telegram), None);
    config.delivery.queue_capacity = 4;
    let notifier = Notifier::start(config).unwrap();
    notifier.send(trade(0));
    telegram.wait_for_requests(1).await;

    // m0 is in flight; the queue holds 4, so m1..m3 are pushed out by m5..m7.
    (1..=7).for_each(|n| notifier.send(trade(n)));
    assert_eq!(notifier.dropped(Channel::Telegram), 3);
    assert_eq!(notifier.stats(Channel::Telegram).unwrap().queued, 4);
    telegram.release();
    let report = notifier.shutdown(DRAIN).await;

    let texts: Vec<String> = telegram.requests().iter().map(|r| r.text()).collect();
    assert_eq!(texts, ["*m0*", "*m4*", "*m5*", "*m6*", "*m7*"]);
    let stats = report.stats(Channel::Telegram).unwrap();
    assert_eq!((stats.accepted, stats.delivered, stats.dropped, stats.failed, stats.queued), (8, 5, 3, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_returns_while_the_service_holds_the_first_request_and_shutdown_gives_up_at_its_deadline() {
    let telegram = Server::start(Reply::telegram_ok()).await;
    let discord = Server::start(Reply::discord_ok()).await;
    telegram.hold();
    discord.hold();
    let notifier = Notifier::start(config(Some(&telegram), Some(&discord))).unwrap();
    let sender = notifier.sender();
    sender.send(trade(0));
    sender.send(Notification::new(Kind::Summary, "s0", ""));
    telegram.wait_for_requests(1).await;
    discord.wait_for_requests(1).await;

    // Both workers are stuck in flight; every send below returns without them.
    for n in 1..=10_000 {
        sender.send(Notification::new(Kind::Critical, format!("c{n}"), "body"));
    }
    assert_eq!((telegram.requests().len(), discord.requests().len()), (1, 1), "no answer yet");
    let capacity = 256;
    for channel in Channel::ALL {
        let stats = notifier.stats(channel).unwrap();
        assert_eq!(
            (stats.accepted, stats.queued, stats.dropped),
            (10_001, capacity, 10_000 - capacity),
            "{channel}"
        );
        assert_eq!(stats.delivered + stats.failed, 0, "{channel}");
        assert_eq!(notifier.dropped(channel), 10_000 - capacity);
    }

    let report = notifier.shutdown(Duration::from_millis(200)).await;
    assert!(!report.drained);
    for channel in Channel::ALL {
        let stats = report.stats(channel).unwrap();
        // The message in flight is cut off (failed); the queued ones are dropped.
        assert_eq!(
            (stats.delivered, stats.failed, stats.dropped, stats.queued),
            (0, 1, 10_000, 0),
            "{channel}"
        );
    }
    // A sender that outlives the notifier still never blocks or panics.
    sender.send(trade(1));
}

/// Collects everything logged on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// Current-thread runtime: the workers run on this thread, under the capturing subscriber.
#[tokio::test]
async fn secrets_stay_out_of_debug_output_and_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Telegram refuses and echoes the path (with the token) in its description; Discord's
    // webhook points at a closed port.
    let telegram = Server::start(Reply::telegram_ok()).await;
    let echo =
        format!(r#"{{"ok":false,"error_code":401,"description":"Unauthorized: /bot{TOKEN}/sendMessage"}}"#);
    telegram.script([Reply::new(401, &echo), Reply::new(401, &echo)]);
    let closed = Server::start(Reply::discord_ok()).await;
    let mut config = config(Some(&telegram), Some(&closed));
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let webhook = format!("http://127.0.0.1:{closed_port}{}", support::WEBHOOK_PATH);
    config.discord.as_mut().unwrap().webhook_url = exchange_core::signing::Secret::new(webhook);

    let shown_config = format!("{config:?} {config:#?}");
    let notifier = Notifier::start(config).unwrap();
    notifier.send(Notification::new(Kind::Critical, "first", ""));
    notifier.send(Notification::new(Kind::Trade, "second", ""));
    let shown_notifier = format!("{notifier:?}");
    let report = notifier.shutdown(DRAIN).await;

    let logs = logs.text();
    assert!(logs.contains("notification rejected; check the channel's settings"), "{logs}");
    assert_eq!(logs.matches("notification rejected; check").count(), 1, "logged once: {logs}");
    assert!(logs.contains("Unauthorized: /bot[REDACTED]/sendMessage"), "{logs}");
    assert!(logs.contains("giving up") && logs.contains("transport error"), "{logs}");
    assert!(logs.contains("channel=\"discord\"") || logs.contains("channel=discord"), "{logs}");
    for shown in [&logs, &shown_config, &shown_notifier, &format!("{report:?}")] {
        assert!(!shown.contains("secret_token"), "token leaked: {shown}");
        assert!(!shown.contains("secret-webhook-token"), "webhook leaked: {shown}");
        // hyper logs host and port at debug level; the path is the secret part.
        assert!(!shown.contains("/api/webhooks/42"), "webhook URL leaked: {shown}");
    }
    let stats = report.stats(Channel::Telegram).unwrap();
    assert_eq!((stats.delivered, stats.failed), (0, 2));
    assert_eq!(report.stats(Channel::Discord).unwrap().failed, 1);
}
