//! REST over real HTTP: authentication and its errors, headers, spot and USD-M orders of every
//! type, account endpoints, leverage and margin type.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Sim, now_ms, start};
use exchange_core::signing::binance::{QueryString, sign_rest};
use exchange_sim::DEMO_API_KEY;
use serde_json::Value;

fn dec(v: &Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a decimal string: {v}"))
}

#[tokio::test]
async fn public_endpoints_and_headers() {
    let sim = start().await;
    let ping = sim.get("/api/v3/ping", &[]).await;
    assert_eq!((ping.status, ping.json.clone()), (200, serde_json::json!({})));
    assert!(ping.header("x-mbx-used-weight-1m").is_some());
    let time = sim.get("/fapi/v1/time", &[]).await;
    let server = time.json["serverTime"].as_i64().unwrap();
    assert!((server - now_ms() as i64).abs() < 5_000, "serverTime is the wall clock");
    let info = sim.get("/api/v3/exchangeInfo", &[]).await;
    assert_eq!(info.json["symbols"].as_array().unwrap().len(), 24);
    let futures = sim.get("/fapi/v1/exchangeInfo", &[]).await;
    let btc = futures.json["symbols"].as_array().unwrap().iter().find(|s| s["symbol"] == "BTCUSDT").unwrap();
    let filter = |name: &str| {
        btc["filters"].as_array().unwrap().iter().find(|f| f["filterType"] == name).unwrap().clone()
    };
    assert_eq!(filter("PRICE_FILTER")["tickSize"], "0.10");
    assert_eq!(filter("LOT_SIZE")["stepSize"], "0.001");
    assert_eq!(filter("MIN_NOTIONAL")["notional"], "100");
    let before: u64 =
        sim.get("/fapi/v1/ping", &[]).await.header("x-mbx-used-weight-1m").unwrap().parse().unwrap();
    let klines =
        sim.get("/fapi/v1/klines", &[("symbol", "BTCUSDT"), ("interval", "1h"), ("limit", "500")]).await;
    let rows = klines.json.as_array().unwrap();
    assert!(rows.len() >= 24, "a day of backfill: {}", rows.len());
    assert_eq!(rows[0].as_array().unwrap().len(), 12);
    let after: u64 = klines.header("x-mbx-used-weight-1m").unwrap().parse().unwrap();
    assert_eq!(after - before, 5, "limit 500 weighs 5 on USD-M");
    let ticker = sim.get("/fapi/v2/ticker/price", &[("symbol", "ETHUSDT")]).await;
    assert!(dec(&ticker.json["price"]) > 0.0 && ticker.json["time"].is_i64());
    let premium = sim.get("/fapi/v1/premiumIndex", &[("symbol", "SOLUSDT")]).await;
    assert!(premium.json["nextFundingTime"].as_i64().unwrap() % (8 * 3_600_000) == 0);
    for (path, params, code) in [
        ("/api/v3/klines", vec![("symbol", "NOPE"), ("interval", "1h")], -1121),
        ("/api/v3/klines", vec![("symbol", "BTCUSDT"), ("interval", "7h")], -1120),
        ("/api/v3/klines", vec![("interval", "1h")], -1102),
        ("/fapi/v1/klines", vec![("symbol", "XRPUSDT"), ("interval", "1h")], -1121),
    ] {
        assert_eq!(sim.get(path, &params).await.code(), code, "{path} {params:?}");
    }
    let unknown = sim.raw("GET", "/api/v3/nothing", None, None).await;
    assert_eq!((unknown.status, unknown.code()), (404, -5000));
}

#[tokio::test]
async fn authentication_errors() {
    let sim = start().await;
    let ts = now_ms().to_string();
    let query = QueryString::new().param("timestamp", &ts);
    let signed = query.clone().finish_signed(&sim.secret);
    let no_key = sim.raw("GET", &format!("/api/v3/account?{signed}"), None, None).await;
    assert_eq!((no_key.status, no_key.code()), (401, -2014));
    let bad_key = sim.raw("GET", &format!("/api/v3/account?{signed}"), Some("Unknown0Key"), None).await;
    assert_eq!((bad_key.status, bad_key.code()), (401, -2015));
    let no_sig = sim.raw("GET", &format!("/fapi/v3/account?timestamp={ts}"), Some(DEMO_API_KEY), None).await;
    assert_eq!(no_sig.code(), -1102);
    let wrong = sim
        .raw(
            "GET",
            &format!("/fapi/v3/account?timestamp={ts}&signature={}", "0".repeat(64)),
            Some(DEMO_API_KEY),
            None,
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (400, -1022));
    let old =
        QueryString::new().param("timestamp", &(now_ms() - 10_000).to_string()).finish_signed(&sim.secret);
    let old = sim.raw("GET", &format!("/api/v3/account?{old}"), Some(DEMO_API_KEY), None).await;
    assert_eq!(
        (old.code(), old.json["msg"].as_str().unwrap()),
        (-1021, "Timestamp for this request is outside of the recvWindow.")
    );
    let window = QueryString::new()
        .param("recvWindow", "20000")
        .param("timestamp", &(now_ms() - 10_000).to_string())
        .finish_signed(&sim.secret);
    assert_eq!(
        sim.raw("GET", &format!("/api/v3/account?{window}"), Some(DEMO_API_KEY), None).await.status,
        200
    );
    let ahead =
        QueryString::new().param("timestamp", &(now_ms() + 3_000).to_string()).finish_signed(&sim.secret);
    let ahead = sim.raw("GET", &format!("/api/v3/account?{ahead}"), Some(DEMO_API_KEY), None).await;
    assert_eq!(
        (ahead.code(), ahead.json["msg"].as_str().unwrap()),
        (-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    );
    let signature_upper = {
        let q = QueryString::new().param("timestamp", &now_ms().to_string());
        let sig = sign_rest(&sim.secret, q.as_str(), "").to_uppercase();
        format!("{}&signature={sig}", q.as_str())
    };
    assert_eq!(
        sim.raw("GET", &format!("/api/v3/account?{signature_upper}"), Some(DEMO_API_KEY), None).await.status,
        200
    );
    // Mixed: part in the query, the rest (signed last) in the body; the query's value wins.
    let query = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.002";
    let body_unsigned = format!("quantity=5&timestamp={}", now_ms());
    let sig = sign_rest(&sim.secret, query, &body_unsigned);
    let mixed = sim
        .raw(
            "POST",
            &format!("/fapi/v1/order?{query}"),
            Some(DEMO_API_KEY),
            Some(format!("{body_unsigned}&signature={sig}")),
        )
        .await;
    assert_eq!((mixed.status, mixed.json["origQty"].as_str()), (200, Some("0.002")), "{}", mixed.json);
    let listen = sim.raw("POST", "/fapi/v1/listenKey", None, None).await;
    assert_eq!(listen.code(), -2014, "listenKey needs the API key");
}

async fn spot_order(sim: &Sim, params: &[(&str, &str)]) -> Value {
    let reply = sim.signed("POST", "/api/v3/order", params).await;
    assert_eq!(reply.status, 200, "{params:?}: {}", reply.json);
    assert!(reply.header("x-mbx-order-count-10s").is_some());
    reply.json
}

#[tokio::test]
async fn spot_orders_of_every_type() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "90000").await;
    let market =
        spot_order(&sim, &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.01")])
            .await;
    assert_eq!(
        (market["status"].as_str(), market["fills"][0]["price"].as_str()),
        (Some("FILLED"), Some("90000.00000000"))
    );
    assert_eq!(market["fills"][0]["commission"], "0.00001000");
    let limit = spot_order(
        &sim,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01"),
            ("price", "89000"),
            ("newClientOrderId", "rest-1"),
        ],
    )
    .await;
    assert_eq!(limit["status"], "NEW");
    let dup = sim
        .signed(
            "POST",
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.01"),
                ("price", "89000"),
                ("newClientOrderId", "rest-1"),
            ],
        )
        .await;
    assert_eq!((dup.code(), dup.json["msg"].as_str()), (-2010, Some("Duplicate order sent.")));
    sim.set_price("BTCUSDT", "88900").await;
    let query =
        sim.signed("GET", "/api/v3/order", &[("symbol", "BTCUSDT"), ("origClientOrderId", "rest-1")]).await;
    assert_eq!(
        (query.json["status"].as_str(), query.json["executedQty"].as_str()),
        (Some("FILLED"), Some("0.01000000"))
    );
    let ioc = spot_order(
        &sim,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "IOC"),
            ("quantity", "0.01"),
            ("price", "95000"),
        ],
    )
    .await;
    assert_eq!(ioc["status"], "EXPIRED");
    let fok = spot_order(
        &sim,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "FOK"),
            ("quantity", "0.01"),
            ("price", "88000"),
        ],
    )
    .await;
    assert_eq!(fok["status"], "FILLED");
    let stop = spot_order(
        &sim,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "STOP_LOSS"),
            ("quantity", "0.005"),
            ("stopPrice", "88000"),
        ],
    )
    .await;
    assert_eq!(stop.as_object().unwrap().len(), 5, "ACK by default for stops: {stop}");
    sim.set_price("BTCUSDT", "87500").await;
    let stopped = sim
        .signed("GET", "/api/v3/order", &[("symbol", "BTCUSDT"), ("orderId", &stop["orderId"].to_string())])
        .await;
    assert_eq!(stopped.json["status"], "FILLED", "gap through the stop fills at the new price");
    let cases: &[(&[(&str, &str)], i64)] = &[
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.000001"),
                ("price", "80000"),
            ],
            -1013,
        ),
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.0000000001"),
                ("price", "80000"),
            ],
            -1111,
        ),
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "1"),
                ("price", "80000"),
            ],
            -2010,
        ),
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT_MAKER"),
                ("quantity", "0.01"),
                ("price", "88000"),
            ],
            -2010,
        ),
        (&[("symbol", "BTCUSDT"), ("side", "UP"), ("type", "MARKET"), ("quantity", "0.01")], -1117),
        (&[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "STOP_MARKET"), ("quantity", "0.01")], -1116),
        (&[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "abc")], -1100),
    ];
    for (params, code) in cases {
        assert_eq!(sim.signed("POST", "/api/v3/order", params).await.code(), *code, "{params:?}");
    }
    let cancel =
        sim.signed("DELETE", "/api/v3/order", &[("symbol", "BTCUSDT"), ("origClientOrderId", "nope")]).await;
    assert_eq!(cancel.code(), -2011);
    let account = sim.signed("GET", "/api/v3/account", &[("omitZeroBalances", "true")]).await;
    let balances = account.json["balances"].as_array().unwrap();
    assert!(balances.iter().any(|b| b["asset"] == "BTC"));
    let trades = sim.signed("GET", "/api/v3/myTrades", &[("symbol", "BTCUSDT")]).await;
    assert_eq!(trades.json.as_array().unwrap().len(), 4);
}

async fn fut(sim: &Sim, params: &[(&str, &str)]) -> Value {
    let reply = sim.signed("POST", "/fapi/v1/order", params).await;
    assert_eq!(reply.status, 200, "{params:?}: {}", reply.json);
    reply.json
}

#[tokio::test]
async fn futures_orders_positions_and_errors() {
    let sim = start().await;
    sim.set_price("BTCUSDT", "100000").await;
    let lev = sim.signed("POST", "/fapi/v1/leverage", &[("symbol", "BTCUSDT"), ("leverage", "10")]).await;
    assert_eq!((lev.json["leverage"].as_u64(), lev.json["symbol"].as_str()), (Some(10), Some("BTCUSDT")));
    let margin =
        sim.signed("POST", "/fapi/v1/marginType", &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")]).await;
    assert_eq!(margin.json, serde_json::json!({"code": 200, "msg": "success"}));
    assert_eq!(
        sim.signed("POST", "/fapi/v1/marginType", &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")])
            .await
            .code(),
        -4046
    );
    let ack =
        fut(&sim, &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.01")]).await;
    assert_eq!(
        (ack["status"].as_str(), ack["executedQty"].as_str()),
        (Some("NEW"), Some("0.000")),
        "ACK shows the order as accepted"
    );
    let result = fut(
        &sim,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.01"),
            ("newOrderRespType", "RESULT"),
        ],
    )
    .await;
    assert_eq!((result["status"].as_str(), result["avgPrice"].as_str()), (Some("FILLED"), Some("100000")));
    let risk = sim.signed("GET", "/fapi/v2/positionRisk", &[("symbol", "BTCUSDT")]).await;
    let row = &risk.json[0];
    assert_eq!(
        (row["positionAmt"].as_str(), row["marginType"].as_str(), row["leverage"].as_str()),
        (Some("0.020"), Some("isolated"), Some("10"))
    );
    assert!(dec(&row["liquidationPrice"]) > 80_000.0);
    let v3 = sim.signed("GET", "/fapi/v3/positionRisk", &[]).await;
    assert_eq!(v3.json.as_array().unwrap().len(), 1, "v3 lists only active symbols");
    let account = sim.signed("GET", "/fapi/v3/account", &[]).await;
    assert!(dec(&account.json["availableBalance"]) < 10_000.0);
    assert_eq!(account.json["positions"][0]["symbol"], "BTCUSDT");
    let balance = sim.signed("GET", "/fapi/v3/balance", &[]).await;
    assert_eq!(balance.json[0]["asset"], "USDT");
    let limit = fut(
        &sim,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.02"),
            ("price", "101000"),
            ("reduceOnly", "true"),
            ("newClientOrderId", "tp-1"),
        ],
    )
    .await;
    assert_eq!(limit["status"], "NEW");
    let open = sim.signed("GET", "/fapi/v1/openOrders", &[("symbol", "BTCUSDT")]).await;
    assert_eq!(open.json.as_array().unwrap().len(), 1);
    assert_eq!(
        sim.signed(
            "POST",
            "/fapi/v1/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.02"),
                ("price", "101000"),
                ("reduceOnly", "true"),
                ("newClientOrderId", "tp-1")
            ]
        )
        .await
        .code(),
        -4116
    );
    sim.set_price("BTCUSDT", "101000").await;
    let filled =
        sim.signed("GET", "/fapi/v1/order", &[("symbol", "BTCUSDT"), ("origClientOrderId", "tp-1")]).await;
    assert_eq!(
        (filled.json["status"].as_str(), filled.json["avgPrice"].as_str()),
        (Some("FILLED"), Some("101000"))
    );
    let trades = sim.signed("GET", "/fapi/v1/userTrades", &[("symbol", "BTCUSDT")]).await;
    assert_eq!(dec(&trades.json[2]["realizedPnl"]), 20.0);
    let cases: &[(&[(&str, &str)], i64)] = &[
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "STOP_MARKET"),
                ("quantity", "0.01"),
                ("stopPrice", "90000"),
            ],
            -4120,
        ),
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "TRAILING_STOP_MARKET"),
                ("quantity", "0.01"),
                ("callbackRate", "1"),
            ],
            -4120,
        ),
        (&[("symbol", "ETHUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.001")], -4164),
        (&[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "3")], -2019),
        (&[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.0011")], -1111),
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "MARKET"),
                ("quantity", "0.01"),
                ("reduceOnly", "true"),
            ],
            -2022,
        ),
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTX"),
                ("quantity", "0.01"),
                ("price", "101100"),
            ],
            -5022,
        ),
        (
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "FOK"),
                ("quantity", "0.01"),
                ("price", "100900"),
            ],
            -5021,
        ),
        (&[("symbol", "SOLUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.5")], -1111),
    ];
    for (params, code) in cases {
        assert_eq!(sim.signed("POST", "/fapi/v1/order", params).await.code(), *code, "{params:?}");
    }
    let ioc = fut(
        &sim,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "IOC"),
            ("quantity", "0.01"),
            ("price", "100900"),
            ("newOrderRespType", "RESULT"),
        ],
    )
    .await;
    assert_eq!(ioc["status"], "EXPIRED");
    let gtx = fut(
        &sim,
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTX"),
            ("quantity", "0.01"),
            ("price", "100900"),
        ],
    )
    .await;
    let cancel = sim
        .signed(
            "DELETE",
            "/fapi/v1/order",
            &[("symbol", "BTCUSDT"), ("orderId", &gtx["orderId"].to_string())],
        )
        .await;
    assert_eq!(cancel.json["status"], "CANCELED");
    assert_eq!(
        sim.signed(
            "DELETE",
            "/fapi/v1/order",
            &[("symbol", "BTCUSDT"), ("orderId", &gtx["orderId"].to_string())]
        )
        .await
        .code(),
        -2011
    );
    assert_eq!(
        sim.signed("GET", "/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", "1")]).await.code(),
        -2013
    );
    let income = sim.signed("GET", "/fapi/v1/income", &[("incomeType", "REALIZED_PNL")]).await;
    assert_eq!(income.json.as_array().unwrap().len(), 1);
}
