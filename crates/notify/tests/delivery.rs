//! Delivery to loopback stand-ins for Telegram and Discord: the request each service gets, the
//! routing of each kind, and the escaped text exactly as it arrives.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::time::Duration;

use notify::{Channel, Kind, Notification, Notifier};
use support::{Reply, Server, TELEGRAM_PATH, WEBHOOK_PATH, config};

const DRAIN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn telegram_gets_send_message_with_the_token_in_the_path_and_the_documented_json() {
    let telegram = Server::start(Reply::telegram_ok()).await;
    let notifier = Notifier::start(config(Some(&telegram), None)).unwrap();
    notifier.send(Notification::new(Kind::Trade, "Opened LONG BTCUSDT", "qty 0.015 @ 27,000.5"));
    let report = notifier.shutdown(DRAIN).await;

    assert!(report.drained);
    let stats = report.stats(Channel::Telegram).unwrap();
    assert_eq!((stats.accepted, stats.delivered, stats.failed, stats.dropped), (1, 1, 0, 0));
    let requests = telegram.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", TELEGRAM_PATH));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        serde_json::json!({
            "chat_id": -1_001_234_567_890_i64,
            "text": "*Opened LONG BTCUSDT*\nqty 0\\.015 @ 27,000\\.5",
            "parse_mode": "MarkdownV2",
            "disable_web_page_preview": true,
        })
    );
}

#[tokio::test]
async fn discord_gets_the_content_with_mentions_disabled() {
    let discord = Server::start(Reply::discord_ok()).await;
    let notifier = Notifier::start(config(None, Some(&discord))).unwrap();
    notifier.send(Notification::new(Kind::Summary, "Summary 2026-11-03", "P&L +1,234.56 (+1.5%)"));
    let report = notifier.shutdown(DRAIN).await;

    assert_eq!(report.stats(Channel::Discord).unwrap().delivered, 1);
    let requests = discord.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", WEBHOOK_PATH));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        serde_json::json!({
            "content": "**Summary 2026-11-03**\nP&L +1,234.56 (+1.5%)",
            "allowed_mentions": { "parse": [] },
        })
    );
}

#[tokio::test]
async fn each_kind_goes_to_its_channels() {
    let telegram = Server::start(Reply::telegram_ok()).await;
    let discord = Server::start(Reply::discord_ok()).await;
    let notifier = Notifier::start(config(Some(&telegram), Some(&discord))).unwrap();
    notifier.send(Notification::new(Kind::Trade, "trade", ""));
    notifier.send(Notification::new(Kind::Summary, "summary", ""));
    notifier.send(Notification::new(Kind::Critical, "critical", ""));
    let report = notifier.shutdown(DRAIN).await;

    let texts = |server: &Server| server.requests().iter().map(|r| r.text()).collect::<Vec<_>>();
    assert_eq!(texts(&telegram), ["*trade*", "*critical*"]);
    assert_eq!(texts(&discord), ["**summary**", "**critical**"]);
    assert_eq!(report.stats(Channel::Telegram).unwrap().delivered, 2);
    assert_eq!(report.stats(Channel::Discord).unwrap().delivered, 2);
}

#[tokio::test]
async fn a_channel_that_is_off_is_skipped() {
    let discord = Server::start(Reply::discord_ok()).await;
    let notifier = Notifier::start(config(None, Some(&discord))).unwrap();
    assert!(!notifier.is_enabled(Channel::Telegram));
    notifier.send(Notification::new(Kind::Trade, "nowhere to go", ""));
    notifier.send(Notification::new(Kind::Critical, "discord only", ""));
    let report = notifier.shutdown(DRAIN).await;

    assert_eq!(report.channels.len(), 1);
    assert_eq!(discord.requests().iter().map(|r| r.text()).collect::<Vec<_>>(), ["**discord only**"]);
}

#[tokio::test]
async fn markup_arrives_escaped_for_each_service() {
    let telegram = Server::start(Reply::telegram_ok()).await;
    let discord = Server::start(Reply::discord_ok()).await;
    let mut config = config(Some(&telegram), Some(&discord));
    config.label = Some("futures-agent".to_owned());
    let notifier = Notifier::start(config).unwrap();
    let body = "_*[]()~`>#+-=|{}.!\\ @everyone @here BTCUSDT -1.5% 1,234.56";
    notifier.send(Notification::new(Kind::Critical, "UNPROTECTED position SOL_USDT", body));
    notifier.shutdown(DRAIN).await;

    assert_eq!(
        telegram.requests()[0].text(),
        "*\\[futures\\-agent\\] UNPROTECTED position SOL\\_USDT*\n\
         \\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\ @everyone @here \
         BTCUSDT \\-1\\.5% 1,234\\.56"
    );
    assert_eq!(
        discord.requests()[0].text(),
        "**[futures-agent] UNPROTECTED position SOL\\_USDT**\n\
         \\_\\*[]()\\~\\`\\>#+-=\\|{}.!\\\\ @\u{200B}everyone @\u{200B}here BTCUSDT -1.5% 1,234.56"
    );
}

#[tokio::test]
async fn a_long_discord_message_arrives_in_parts_in_order() {
    let discord = Server::start(Reply::discord_ok()).await;
    let notifier = Notifier::start(config(None, Some(&discord))).unwrap();
    let lines: Vec<String> = (0..60).map(|i| format!("{i:02} {}", "x".repeat(60))).collect();
    notifier.send(Notification::new(Kind::Summary, "Report", lines.join("\n")));
    let report = notifier.shutdown(DRAIN).await;

    let parts: Vec<String> = discord.requests().iter().map(|r| r.text()).collect();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts.iter().all(|p| p.chars().count() <= 2000));
    assert_eq!(parts.join("\n"), format!("**Report**\n{}", lines.join("\n")));
    assert_eq!(report.stats(Channel::Discord).unwrap().delivered, 1, "one notification, two requests");
}
