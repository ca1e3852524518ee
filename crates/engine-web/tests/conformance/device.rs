//! `DeviceStore` and `MsgSecretStore`.

use std::sync::Arc;

use whatsapp_rust::store::traits::{DeviceStore, MsgSecretEntry, MsgSecretStore};
use whatsapp_rust::wacore::store::device::DEVICE_PROPS;
use whatsapp_rust::wacore::store::Device;

use super::{json, Pair};
use crate::both;

pub const PUSH_NAME: &str = "wasl-conformance-push-name";

fn device_json(device: Option<Device>) -> Option<serde_json::Value> {
    device.map(json)
}

pub async fn story(t: &Pair) {
    // A store starts without a device; `create` makes one that `load` then returns.
    assert!(!both!(t, exists()));
    assert!(t.web.load().await.expect("load").is_none());
    assert_eq!(both!(t, create()), 1);
    assert!(both!(t, exists()));
    let created = t.web.load().await.expect("load").expect("created device");
    assert_eq!(t.web.create().await.expect("create again"), 1);
    let again = t.web.load().await.expect("load").expect("device");
    assert_eq!(
        json(&again),
        json(&created),
        "create keeps an existing device"
    );

    // Save and load round-trip every persisted field, and restore the skipped props.
    let mut device = Device::new();
    device.push_name = PUSH_NAME.to_owned();
    device.pn = Some("15551234567@s.whatsapp.net".parse().expect("jid"));
    device.login_counter = 3;
    device.next_pre_key_id = 813;
    device.device_props = Arc::new(Default::default());
    both!(t, save(&device));
    let loaded = both!(t, load(), device_json);
    assert_eq!(loaded, Some(json(&device)));
    let loaded = t.web.load().await.expect("load").expect("device");
    assert_eq!(
        *loaded.device_props, *DEVICE_PROPS,
        "device_props is restored after load"
    );
    assert_eq!(
        loaded.identity_key.private_key.serialize(),
        device.identity_key.private_key.serialize()
    );

    let report = t.web.resource_report().await;
    assert_eq!(report.memory_bytes, Some(0));
    both!(t, snapshot_db("label", Some(b"extra")));

    msg_secrets(t).await;
}

async fn msg_secrets(t: &Pair) {
    let (chat, sender) = ("120363021033254949@g.us", "15551234567@s.whatsapp.net");
    let entry = |msg_id: &str, secret: u8, expires_at, message_ts| MsgSecretEntry {
        chat: chat.into(),
        sender: sender.into(),
        msg_id: msg_id.into(),
        secret: [secret; 32],
        expires_at,
        message_ts,
    };
    both!(t, get_msg_secret(chat, sender, "m1"));
    both!(t, put_msg_secret(chat, sender, "m1", &[1; 32]));
    assert_eq!(
        both!(t, get_msg_secret(chat, sender, "m1")),
        Some(vec![1; 32])
    );
    assert_eq!(
        both!(t, get_msg_secret_with_ts(chat, sender, "m1")),
        Some((vec![1; 32], 0))
    );
    assert_eq!(
        both!(t, get_msg_secret(sender, chat, "m1")),
        None,
        "keyed by all three"
    );

    // Merging: a deadline never shrinks ("never" wins), a known parent time stays.
    let stored = both!(
        t,
        put_msg_secrets(vec![
            entry("m1", 2, 500, 1000),
            entry("m2", 3, 100, 0),
            entry("m3", 4, 300, 50),
            entry("m3", 5, 200, 0),
        ])
    );
    assert_eq!(stored, 4);
    assert_eq!(
        both!(t, get_msg_secret_with_ts(chat, sender, "m1")),
        Some((vec![2; 32], 1000))
    );
    assert_eq!(
        both!(t, get_msg_secret_with_ts(chat, sender, "m3")),
        Some((vec![5; 32], 50))
    );
    both!(t, put_msg_secrets(vec![entry("m2", 3, 150, 70)]));
    both!(t, put_msg_secrets(vec![]));

    // m2 (deadline 150) and m3 (300) go in turn; m1 never expires.
    assert_eq!(both!(t, delete_expired_msg_secrets(149)), 0);
    assert_eq!(both!(t, delete_expired_msg_secrets(150)), 1);
    assert_eq!(both!(t, get_msg_secret(chat, sender, "m2")), None);
    assert_eq!(both!(t, delete_expired_msg_secrets(i64::MAX)), 1);
    assert!(both!(t, get_msg_secret(chat, sender, "m1")).is_some());
}
