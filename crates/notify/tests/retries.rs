//! Retries against loopback stand-ins: the services' rate limits (the retry comes after the wait
//! and the message arrives once), backoff on 5xx, giving up after the configured attempts, and
//! no retry on other 4xx.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::time::Duration;

use notify::{Channel, Kind, Notification, Notifier};
use support::{Reply, Server, config};

const DRAIN: Duration = Duration::from_secs(10);

fn trade(title: &str) -> Notification {
    Notification::new(Kind::Trade, title, "")
}

fn summary(title: &str) -> Notification {
    Notification::new(Kind::Summary, title, "")
}

#[tokio::test]
async fn telegram_429_waits_the_retry_after_from_the_body_then_delivers_once() {
    let telegram = Server::start(Reply::telegram_ok()).await;
    let body = concat!(
        r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","#,
        r#""parameters":{"retry_after":1}}"#
    );
    telegram.script([Reply::new(429, body)]);
    let notifier = Notifier::start(config(Some(&telegram), None)).unwrap();
    notifier.send(trade("limited"));
    let report = notifier.shutdown(DRAIN).await;

    let requests = telegram.requests();
    assert_eq!(requests.len(), 2, "one refused, one delivered");
    assert!(
        requests[1].at - requests[0].at >= Duration::from_secs(1),
        "{:?}",
        requests[1].at - requests[0].at
    );
    assert_eq!(requests[0].body, requests[1].body);
    let stats = report.stats(Channel::Telegram).unwrap();
    assert_eq!((stats.delivered, stats.failed), (1, 0));
}

#[tokio::test]
async fn discord_429_waits_the_retry_after_header() {
    let discord = Server::start(Reply::discord_ok()).await;
    discord.script([Reply::new(429, "").header("Retry-After", "0.3")]);
    let notifier = Notifier::start(config(None, Some(&discord))).unwrap();
    notifier.send(summary("limited"));
    let report = notifier.shutdown(DRAIN).await;

    let requests = discord.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(300));
    assert_eq!(report.stats(Channel::Discord).unwrap().delivered, 1);
}

#[tokio::test]
async fn discord_429_waits_the_longer_of_header_and_body() {
    let discord = Server::start(Reply::discord_ok()).await;
    let body = r#"{"message":"You are being rate limited.","retry_after":0.35,"global":false}"#;
    discord.script([Reply::new(429, body).header("Retry-After", "0")]);
    let notifier = Notifier::start(config(None, Some(&discord))).unwrap();
    notifier.send(summary("limited"));
    let report = notifier.shutdown(DRAIN).await;

    let requests = discord.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(350));
    assert_eq!(report.stats(Channel::Discord).unwrap().delivered, 1);
}

#[tokio::test]
async fn discord_empty_bucket_delays_the_next_request_until_the_reset() {
    let discord = Server::start(Reply::discord_ok()).await;
    discord.script([Reply::discord_ok()
        .header("X-RateLimit-Remaining", "0")
        .header("X-RateLimit-Reset-After", "0.3")]);
    let notifier = Notifier::start(config(None, Some(&discord))).unwrap();
    notifier.send(summary("first"));
    notifier.send(summary("second"));
    let report = notifier.shutdown(DRAIN).await;

    let requests = discord.requests();
    assert_eq!(requests.iter().map(|r| r.text()).collect::<Vec<_>>(), ["**first**", "**second**"]);
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(300));
    assert_eq!(report.stats(Channel::Discord).unwrap().delivered, 2);
}

#[tokio::test]
async fn a_server_error_is_retried_then_delivered() {
    let telegram = Server::start(Reply::telegram_ok()).await;
    telegram
        .script([Reply::new(500, r#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#)]);
    let notifier = Notifier::start(config(Some(&telegram), None)).unwrap();
    notifier.send(trade("retried"));
    let report = notifier.shutdown(DRAIN).await;

    let requests = telegram.requests();
    assert_eq!(requests.len(), 2);
    // The first backoff is drawn between half and all of the configured 20 ms.
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(10));
    let stats = report.stats(Channel::Telegram).unwrap();
    assert_eq!((stats.delivered, stats.failed), (1, 0));
}

#[tokio::test]
async fn gives_up_after_the_configured_attempts_and_goes_on_with_the_next_message() {
    let discord = Server::start(Reply::discord_ok()).await;
    discord.script((0..3).map(|_| Reply::new(502, "<html>Bad Gateway</html>")));
    let notifier = Notifier::start(config(None, Some(&discord))).unwrap();
    notifier.send(summary("doomed"));
    notifier.send(summary("next"));
    let report = notifier.shutdown(DRAIN).await;

    let texts: Vec<String> = discord.requests().iter().map(|r| r.text()).collect();
    assert_eq!(texts, ["**doomed**", "**doomed**", "**doomed**", "**next**"], "3 attempts configured");
    let stats = report.stats(Channel::Discord).unwrap();
    assert_eq!((stats.delivered, stats.failed), (1, 1));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404] {
        let telegram = Server::start(Reply::telegram_ok()).await;
        let body = format!(r#"{{"ok":false,"error_code":{status},"description":"refused"}}"#);
        telegram.script([Reply::new(status, &body)]);
        let notifier = Notifier::start(config(Some(&telegram), None)).unwrap();
        notifier.send(trade("refused"));
        notifier.send(trade("next"));
        let report = notifier.shutdown(DRAIN).await;

        let texts: Vec<String> = telegram.requests().iter().map(|r| r.text()).collect();
        assert_eq!(texts, ["*refused*", "*next*"], "HTTP {status}");
        let stats = report.stats(Channel::Telegram).unwrap();
        assert_eq!((stats.delivered, stats.failed), (1, 1), "HTTP {status}");
    }
}
