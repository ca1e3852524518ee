//! `ProtocolStore`: sender-key devices, LID mappings, base keys, device lists, group
//! metadata, tc tokens, sent messages, the pending-inbound buffer.

use whatsapp_rust::store::traits::{
    DeviceInfo, DeviceListRecord, LidPnMappingEntry, PendingInboundKey, PendingInboundRow,
    ProtocolStore, TcTokenEntry,
};

use super::{json, sorted, Pair};
use crate::both;

const GROUP: &str = "120363021033254949@g.us";
const GROUP_2: &str = "120363000000000001@g.us";
const DEV_1: &str = "15551234567:1@s.whatsapp.net";
const DEV_2: &str = "100000012345678:2@lid";

fn lid(lid: &str, phone: &str, updated_at: i64) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid: lid.to_owned(),
        phone_number: phone.to_owned(),
        created_at: 10,
        updated_at,
        learning_source: "usync".to_owned(),
    }
}

fn devices(user: &str, ids: &[u32], timestamp: i64) -> DeviceListRecord {
    DeviceListRecord {
        user: user.to_owned(),
        devices: ids
            .iter()
            .map(|id| DeviceInfo::new(*id, Some(*id)))
            .collect(),
        timestamp,
        phash: Some("2:abc".to_owned()),
        raw_id: Some(4),
    }
}

fn by_lid(list: Vec<LidPnMappingEntry>) -> serde_json::Value {
    let mut list = list;
    list.sort_by(|a, b| a.lid.cmp(&b.lid));
    json(list)
}

pub async fn story(t: &Pair) {
    // Sender-key distribution per device.
    both!(t, get_sender_key_devices(GROUP));
    both!(
        t,
        set_sender_key_status(GROUP, &[(DEV_1, true), (DEV_2, false)])
    );
    both!(t, set_sender_key_status(GROUP_2, &[(DEV_1, true)]));
    both!(t, set_sender_key_status(GROUP, &[(DEV_2, true)]));
    let got = both!(t, get_sender_key_devices(GROUP), sorted);
    assert_eq!(got, [(DEV_2.to_owned(), true), (DEV_1.to_owned(), true)]);
    both!(t, delete_sender_key_device_rows(&[DEV_1]));
    both!(t, get_sender_key_devices(GROUP), sorted);
    assert!(both!(t, get_sender_key_devices(GROUP_2)).is_empty());
    both!(t, set_sender_key_status(GROUP_2, &[(DEV_1, false)]));
    both!(t, clear_sender_key_devices(GROUP));
    assert!(both!(t, get_sender_key_devices(GROUP)).is_empty());
    both!(t, get_sender_key_devices(GROUP_2), sorted);
    both!(t, clear_all_sender_key_devices());
    assert!(both!(t, get_sender_key_devices(GROUP_2)).is_empty());

    // LID ↔ phone.
    both!(t, get_lid_mapping("111"), json);
    both!(t, put_lid_mapping(&lid("111", "5550001", 100)));
    both!(t, get_lid_mapping("111"), json);
    both!(t, get_pn_mapping("5550001"), json);
    both!(
        t,
        put_lid_mappings(&[lid("222", "5550002", 200), lid("111", "5550003", 300)])
    );
    assert_eq!(both!(t, get_pn_mapping("5550001"), json), json(None::<()>));
    let got = both!(t, get_pn_mapping("5550003"), json);
    assert_eq!(got, json(Some(lid("111", "5550003", 300))));
    both!(t, put_lid_mapping(&lid("333", "5550002", 400)));
    let got = both!(t, get_pn_mapping("5550002"), json);
    assert_eq!(
        got,
        json(Some(lid("333", "5550002", 400))),
        "newest LID wins"
    );
    both!(t, get_all_lid_mappings(), by_lid);

    // Base keys for retry collision detection.
    assert!(!both!(t, has_same_base_key(DEV_1, "msg-1", b"base")));
    both!(t, save_base_key(DEV_1, "msg-1", b"base"));
    assert!(both!(t, has_same_base_key(DEV_1, "msg-1", b"base")));
    assert!(!both!(t, has_same_base_key(DEV_1, "msg-1", b"other")));
    assert!(!both!(t, has_same_base_key(DEV_1, "msg-2", b"base")));
    both!(t, delete_base_key(DEV_1, "msg-1"));
    assert!(!both!(t, has_same_base_key(DEV_1, "msg-1", b"base")));

    // Device lists.
    both!(t, get_devices("15551234567"), json);
    both!(t, update_device_list(devices("15551234567", &[0, 1], 100)));
    both!(
        t,
        update_device_lists(vec![
            devices("100000012345678", &[0], 110),
            devices("15551234567", &[0, 1, 5], 120),
        ])
    );
    let got = both!(t, get_devices("15551234567"), json);
    assert_eq!(got, json(Some(devices("15551234567", &[0, 1, 5], 120))));
    both!(t, delete_devices("15551234567"));
    both!(t, get_devices("15551234567"), json);
    both!(t, get_devices("100000012345678"), json);

    // Group metadata.
    both!(t, get_group_metadata(GROUP));
    both!(t, put_group_metadata(GROUP, b"group blob"));
    assert_eq!(
        both!(t, get_group_metadata(GROUP)),
        Some(b"group blob".to_vec())
    );
    both!(t, delete_group_metadata(GROUP));
    both!(t, get_group_metadata(GROUP));

    tc_tokens(t).await;
    sent_and_pending(t).await;
}

async fn tc_tokens(t: &Pair) {
    let entry = |token: &[u8], token_timestamp, sender_timestamp| TcTokenEntry {
        token: token.to_vec(),
        token_timestamp,
        sender_timestamp,
    };
    both!(t, get_tc_token("j1@lid"), json);
    both!(t, put_tc_token("j1@lid", &entry(b"tok-100", 100, None)));
    both!(t, store_received_tc_token("j1@lid", b"tok-50", 50));
    let got = both!(t, get_tc_token("j1@lid"), json);
    assert_eq!(
        got,
        json(Some(entry(b"tok-100", 100, None))),
        "older never wins"
    );
    both!(t, store_received_tc_token("j1@lid", b"tok-150", 150));
    both!(t, touch_tc_token_sender_timestamp("j1@lid", 200));
    both!(t, touch_tc_token_sender_timestamp("j1@lid", 180));
    let got = both!(t, get_tc_token("j1@lid"), json);
    assert_eq!(got, json(Some(entry(b"tok-150", 150, Some(200)))));
    both!(t, touch_tc_token_sender_timestamp("j2@lid", 300));
    both!(t, get_tc_token("j2@lid"), json);
    both!(t, store_received_tc_token("j2@lid", b"tok-10", 10));
    let got = both!(t, get_tc_token("j2@lid"), json);
    assert_eq!(
        got,
        json(Some(entry(b"tok-10", 10, Some(300)))),
        "placeholder yields"
    );
    both!(t, put_tc_token("j3@lid", &entry(b"tok-20", 20, None)));
    both!(t, put_tc_token("j4@lid", &entry(b"", 5, Some(20))));
    both!(t, get_all_tc_token_jids(), sorted);
    // j1 and j2 keep live parts; j3's token and j4's sender bucket are stale.
    assert_eq!(both!(t, delete_expired_tc_tokens(100, 100)), 2);
    let jids = both!(t, get_all_tc_token_jids(), sorted);
    assert_eq!(jids, ["j1@lid", "j2@lid"]);
    assert_eq!(
        both!(t, delete_expired_tc_tokens(120, 250)),
        0,
        "one live part is enough"
    );
    both!(t, delete_tc_token("j1@lid"));
    assert_eq!(both!(t, delete_expired_tc_tokens(200, 350)), 1);
    assert!(both!(t, get_all_tc_token_jids()).is_empty());
}

async fn sent_and_pending(t: &Pair) {
    // Sent messages kept for retry receipts: taken once.
    both!(t, store_sent_message(GROUP, "m1", b"payload 1"));
    both!(t, store_sent_message(GROUP, "m2", b"payload 2"));
    assert_eq!(
        both!(t, take_sent_message(GROUP, "m1")),
        Some(b"payload 1".to_vec())
    );
    assert_eq!(both!(t, take_sent_message(GROUP, "m1")), None);
    assert_eq!(both!(t, delete_expired_sent_messages(0)), 0);
    let far_future = 4_000_000_000;
    assert_eq!(both!(t, delete_expired_sent_messages(far_future)), 1);
    assert_eq!(both!(t, take_sent_message(GROUP, "m2")), None);

    // The pending-inbound buffer of the durability hook.
    both!(t, get_pending_inbound(GROUP, DEV_1, "in-1"));
    both!(t, store_pending_inbound(GROUP, DEV_1, "in-1", b"inbound 1"));
    assert_eq!(
        both!(t, get_pending_inbound(GROUP, DEV_1, "in-1")),
        Some(b"inbound 1".to_vec())
    );
    assert_eq!(both!(t, get_pending_inbound(GROUP, DEV_2, "in-1")), None);
    let rows = [
        PendingInboundRow {
            chat: GROUP,
            sender: DEV_2,
            id: "in-2",
            message: b"inbound 2",
        },
        PendingInboundRow {
            chat: GROUP_2,
            sender: DEV_2,
            id: "in-3",
            message: b"inbound 3",
        },
    ];
    both!(t, store_pending_inbound_batch(&rows));
    both!(t, delete_pending_inbound(GROUP, DEV_1, "in-1"));
    both!(t, get_pending_inbound(GROUP, DEV_1, "in-1"));
    let keys = [PendingInboundKey {
        chat: GROUP,
        sender: DEV_2,
        id: "in-2",
    }];
    both!(t, delete_pending_inbound_batch(&keys));
    both!(t, get_pending_inbound(GROUP, DEV_2, "in-2"));
    assert_eq!(both!(t, delete_expired_pending_inbound(0)), 0);
    assert_eq!(both!(t, delete_expired_pending_inbound(far_future)), 1);
    both!(t, get_pending_inbound(GROUP_2, DEV_2, "in-3"));
}
