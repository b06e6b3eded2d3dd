//! The stand-in against a real anvil: java-tron's refusals (bad signature, expired, stale reference
//! block, duplicate), hostile input, and real TriggerSmartContract transactions built by the Rust
//! builder executing through it.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Rig, key, owner_of, rpc, transfer_data, transfer_topics};
use lucid_payout::api::ContractResult;
use lucid_payout::tx::TriggerParams;
use lucid_payout::{ReturnCode, TronAddress};
use serde_json::{Value, json};

async fn base_params(rig: &Rig, owner: TronAddress, data: Vec<u8>) -> TriggerParams {
    let head = rig.client.now_block().await.unwrap();
    let solid = rig.client.solid_block().await.unwrap().as_ref_block();
    TriggerParams {
        owner,
        contract: rig.usdt,
        data,
        call_value: 0,
        fee_limit: 100_000_000,
        ref_block_bytes: solid.ref_block_bytes(),
        ref_block_hash: solid.ref_block_hash(),
        expiration_ms: head.timestamp_ms + 60_000,
        timestamp_ms: head.timestamp_ms,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_bad_signature_expiry_stale_ref_block_and_duplicates_like_java_tron() {
    let rig = Rig::start(false).await;
    let payer = key("payer");
    let owner = owner_of(&payer);
    let rcpt = owner_of(&key("recipient"));
    rig.mint(&owner, 1_000_000_000);

    let head = rig.client.now_block().await.unwrap();
    let solid = rig.client.solid_block().await.unwrap();
    assert_eq!(solid.number + 1, head.number, "solidified head lags by 1");
    assert_eq!(&head.id[..8], &head.number.to_be_bytes());
    let base = base_params(&rig, owner, transfer_data(&rcpt, 5)).await;
    let mut refused = Vec::new();

    // Signed by another key.
    let tx = base.build().sign(&key("mallory")).unwrap();
    let r = rig.client.broadcast(&tx).await.unwrap();
    assert!(!r.result);
    assert_eq!(r.code, ReturnCode::SigError, "{r:?}");
    assert!(
        r.message.starts_with("Validate signature error: ") && r.message.contains("is signed by"),
        "{r:?}"
    );
    assert_eq!(r.txid, tx.txid_hex());
    refused.push(tx.txid);
    // A signature over other bytes (the txid of another transaction).
    let mut other = base.clone();
    other.timestamp_ms += 1;
    let mut tx = base.build().sign(&payer).unwrap();
    tx.signature = other.build().sign(&payer).unwrap().signature;
    let r = rig.client.broadcast(&tx).await.unwrap();
    assert_eq!(r.code, ReturnCode::SigError, "{r:?}");
    refused.push(tx.txid);
    // A malformed recovery byte.
    let mut tx = base.build().sign(&payer).unwrap();
    tx.signature[64] = 7;
    let r = rig.client.broadcast(&tx).await.unwrap();
    assert_eq!(r.code, ReturnCode::SigError, "{r:?}");

    // Expired (expiration at the head block's time), and too far ahead (over 24 h).
    for exp in [
        head.timestamp_ms,
        head.timestamp_ms - 1,
        head.timestamp_ms + 86_400_001,
    ] {
        let mut p = base.clone();
        p.expiration_ms = exp;
        let tx = p.build().sign(&payer).unwrap();
        let r = rig.client.broadcast(&tx).await.unwrap();
        assert_eq!(r.code, ReturnCode::TransactionExpirationError, "{r:?}");
        assert!(r.message.starts_with("Transaction expired"), "{r:?}");
        refused.push(tx.txid);
    }

    // Stale reference block: a block that was replaced (snapshot, mine, revert, mine another).
    let snap = rpc(&rig.anvil_url, "evm_snapshot", json!([])).await;
    rpc(&rig.anvil_url, "evm_mine", json!([])).await;
    let gone = rig.client.now_block().await.unwrap();
    rpc(&rig.anvil_url, "evm_revert", json!([snap])).await;
    rpc(
        &rig.anvil_url,
        "evm_setNextBlockTimestamp",
        json!([gone.timestamp_ms / 1000 + 7]),
    )
    .await;
    rpc(&rig.anvil_url, "evm_mine", json!([])).await;
    let now = rig.client.now_block().await.unwrap();
    assert_eq!(now.number, gone.number);
    assert_ne!(now.id, gone.id);
    let mut p = base_params(&rig, owner, transfer_data(&rcpt, 5)).await;
    p.ref_block_bytes = gone.as_ref_block().ref_block_bytes();
    p.ref_block_hash = gone.as_ref_block().ref_block_hash();
    let tx = p.build().sign(&payer).unwrap();
    let r = rig.client.broadcast(&tx).await.unwrap();
    assert_eq!(r.code, ReturnCode::TaposError, "{r:?}");
    assert!(r.message.contains("different block hash"), "{r:?}");
    refused.push(tx.txid);
    // A reference to a block not produced yet.
    let mut p2 = p.clone();
    p2.ref_block_bytes = ((now.number + 5) as u16).to_be_bytes();
    let tx = p2.build().sign(&payer).unwrap();
    let r = rig.client.broadcast(&tx).await.unwrap();
    assert_eq!(r.code, ReturnCode::TaposError, "{r:?}");
    assert!(r.message.contains("block not found"), "{r:?}");

    // Nothing was executed or remembered.
    assert_eq!(rig.balance(&rcpt).await, 0);
    for id in &refused {
        assert_eq!(rig.client.tx_info(id, false).await.unwrap(), None);
    }

    // A good one executes once; the second broadcast is a duplicate.
    let good = base_params(&rig, owner, transfer_data(&rcpt, 5))
        .await
        .build()
        .sign(&payer)
        .unwrap();
    let r = rig.client.broadcast(&good).await.unwrap();
    assert!(r.result, "{r:?}");
    assert_eq!(r.code, ReturnCode::Success);
    let r = rig.client.broadcast(&good).await.unwrap();
    assert_eq!(r.code, ReturnCode::DupTransactionError, "{r:?}");
    assert_eq!(r.message, "Dup transaction.");
    assert_eq!(rig.balance(&rcpt).await, 5);

    // Included at the head, solidified one block later; TRON's info format.
    let info = rig
        .client
        .tx_info(&good.txid, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.id, good.txid);
    assert_eq!(info.receipt_result, Some(ContractResult::Success));
    assert!(!info.failed);
    assert_eq!(rig.client.tx_info(&good.txid, true).await.unwrap(), None);
    rpc(&rig.anvil_url, "evm_mine", json!([])).await;
    let sinfo = rig.client.tx_info(&good.txid, true).await.unwrap().unwrap();
    assert_eq!(sinfo, info);
    let block = rig.client.solid_block().await.unwrap();
    assert_eq!(sinfo.block_number, block.number);
    assert_eq!(sinfo.block_timestamp_ms, block.timestamp_ms);
    let log = &sinfo.logs[0];
    assert_eq!(log.address, rig.usdt.0, "log address: 20 bytes, no 0x41");
    assert_eq!(log.topics, transfer_topics(&owner, &rcpt));
    // MockTronUSDT's transfer returns false, like mainnet USDT: SUCCESS all the same.
    assert_eq!(sinfo.contract_result, vec![0u8; 32]);
    // The raw JSON says it as java-tron does.
    let (_, raw) = post_raw(
        &rig.url,
        "/walletsolidity/gettransactioninfobyid",
        json!({"value": good.txid_hex()}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(raw["receipt"]["result"], "SUCCESS");
    assert_eq!(raw["contract_address"], rig.usdt.to_hex41());
    assert!(
        raw.get("result").is_none(),
        "success has no result field: {raw}"
    );
}

/// POSTs `body` as is (a transport error retried: see `send_retrying_transport`).
async fn post_raw(url: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
    let (status, text) = lucid_e2e::send_retrying_transport(|| {
        reqwest::Client::new()
            .post(format!("{url}{path}"))
            .header("content-type", "application/json")
            .body(body.clone())
    })
    .await;
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"));
    (status, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_4xx_json_error_and_changes_nothing() {
    let rig = Rig::start(false).await;
    let before = rpc(&rig.anvil_url, "eth_blockNumber", json!([])).await;
    let u = &rig.url;
    let b = "/wallet/broadcasttransaction";
    for (path, body, status) in [
        (b, b"not json".to_vec(), 400),
        (b, b"[1,2]".to_vec(), 400),
        (b, b"{}".to_vec(), 400),
        (b, br#"{"raw_data": 5}"#.to_vec(), 400),
        (
            b,
            br#"{"raw_data": {"contract": [{"type": "TransferContract"}]}}"#.to_vec(),
            400,
        ),
        (
            b,
            br#"{"raw_data": {"contract": [{"type": "TriggerSmartContract", "parameter": {"value": {"data": "zz"}}}]}}"#.to_vec(),
            400,
        ),
        (
            b,
            br#"{"raw_data": {"contract": [], "expiration": "later"}}"#.to_vec(),
            400,
        ),
        (b, vec![b' '; 2 << 20], 413),
        ("/wallet/gettransactioninfobyid", br#"{"value": "xyz"}"#.to_vec(), 400),
        ("/walletsolidity/gettransactioninfobyid", br#"{"value": 7}"#.to_vec(), 400),
        ("/wallet/triggerconstantcontract", br#"{"owner_address": "41zz"}"#.to_vec(), 400),
        ("/wallet/estimateenergy", br#"{"owner_address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "visible": true}"#.to_vec(), 400),
        ("/wallet/nosuchthing", b"{}".to_vec(), 404),
        ("/lucid/faults", br#"{"broadcast": "SERVER_BUSY"}"#.to_vec(), 400),
        ("/lucid/faults", br#"{"broadcast": ["server busy; drop table"]}"#.to_vec(), 400),
    ] {
        let (s, v) = post_raw(u, path, body).await;
        assert_eq!(s, status, "{path}: {v}");
        assert!(v.get("Error").is_some() || v.get("result").is_some(), "{path}: {v}");
    }
    // A transaction with no signature: SIGERROR, nothing executed.
    let p = base_params(&rig, owner_of(&key("payer")), vec![1, 2, 3]).await;
    let tx = p.build().sign(&key("payer")).unwrap();
    let mut body = tx.to_broadcast_json().unwrap();
    body["signature"] = json!([]);
    let (s, v) = post_raw(u, b, body.to_string().into_bytes()).await;
    assert_eq!(s, 200);
    assert_eq!(v["code"], "SIGERROR", "{v}");
    // Unknown transaction: `{}` as java-tron answers.
    let (s, v) = post_raw(
        u,
        "/wallet/gettransactioninfobyid",
        json!({"value": "ab".repeat(32)}).to_string().into_bytes(),
    )
    .await;
    assert_eq!((s, v), (200, json!({})));
    // /jsonrpc is the anvil's.
    let (s, v) = post_raw(
        u,
        "/jsonrpc",
        br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#.to_vec(),
    )
    .await;
    assert_eq!((s, v["result"].clone()), (200, json!("0x7a69")));
    assert_eq!(
        rpc(&rig.anvil_url, "eth_blockNumber", json!([])).await,
        before
    );
}

#[test]
fn refuses_to_start_without_an_answering_anvil_and_stops_cleanly_on_sigterm() {
    let bin = env!("CARGO_BIN_EXE_lucid-tron-local");
    let out = std::process::Command::new(bin)
        .args(["--evm-rpc", "http://127.0.0.1:1", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not answer"), "{err}");
    let out = std::process::Command::new(bin)
        .args([
            "--evm-rpc",
            "http://127.0.0.1:1",
            "--listen",
            "not-an-address",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let rig = rt.block_on(Rig::start(false));
    let port = lucid_e2e::free_port();
    let mut child = std::process::Command::new(bin)
        .args([
            "--evm-rpc",
            &rig.anvil_url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), format!("listening on 127.0.0.1:{port}"));
    let st = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    drop(rig);
}
