//! `SignalStore`: identities, sessions, prekeys, signed prekeys, sender keys.

use std::sync::Arc;

use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::store::traits::SignalStore;

use super::{sorted, Pair};
use crate::both;

const ALICE: &str = "15551234567@s.whatsapp.net";
const ALICE_PHONE: &str = "15551234567:3@s.whatsapp.net";
const BOB_LID: &str = "100000012345678@lid";

pub async fn story(t: &Pair) {
    // Identities.
    both!(t, load_identity(ALICE));
    both!(t, put_identity(ALICE, [1; 32]));
    assert_eq!(both!(t, load_identity(ALICE)), Some([1; 32]));
    let batch: Vec<(Arc<str>, [u8; 32])> = vec![(BOB_LID.into(), [2; 32]), (ALICE.into(), [3; 32])];
    both!(t, put_identities_batch(&batch));
    assert_eq!(both!(t, load_identity(ALICE)), Some([3; 32]));
    both!(t, load_identity(BOB_LID));
    both!(t, delete_identity(BOB_LID));
    assert_eq!(both!(t, load_identity(BOB_LID)), None);

    // Sessions, and "do we know this user at all".
    assert!(!both!(t, has_signal_state_for_user("100000012345678")));
    assert!(
        both!(t, has_signal_state_for_user("15551234567")),
        "identity counts"
    );
    both!(t, get_session(ALICE_PHONE));
    both!(t, put_session(ALICE_PHONE, b"session one"));
    assert!(both!(t, has_session(ALICE_PHONE)));
    assert!(!both!(t, has_session(ALICE)));
    let sessions: Vec<(Arc<str>, Bytes)> = vec![
        (ALICE_PHONE.into(), Bytes::from_static(b"session two")),
        (BOB_LID.into(), Bytes::from_static(b"bob session")),
    ];
    both!(t, put_sessions_batch(&sessions));
    assert_eq!(
        both!(t, get_session(ALICE_PHONE)),
        Some(Bytes::from_static(b"session two"))
    );
    assert!(both!(t, has_signal_state_for_user("100000012345678")));
    assert!(
        !both!(t, has_signal_state_for_user("1555")),
        "a prefix is not a user"
    );
    assert!(!both!(t, has_signal_state_for_user("100000012345678@lid")));
    both!(t, delete_session(BOB_LID));
    assert!(!both!(t, has_signal_state_for_user("100000012345678")));
    assert!(!both!(t, has_session(BOB_LID)));
    both!(t, put_sessions_batch(&[]));

    // One-time prekeys.
    assert_eq!(both!(t, get_max_prekey_id()), 0);
    both!(t, store_prekey(1, b"prekey 1", false));
    let batch: Vec<(u32, Bytes)> = (2..=5)
        .map(|id| (id, Bytes::from(format!("prekey {id}"))))
        .collect();
    both!(t, store_prekeys_batch(&batch, true));
    assert_eq!(
        both!(t, load_prekey(3)),
        Some(Bytes::from_static(b"prekey 3"))
    );
    both!(t, load_prekey(99));
    let loaded = both!(t, load_prekeys_batch(&[5, 99, 1, 3]));
    assert_eq!(
        loaded.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [5, 1, 3]
    );
    both!(t, mark_prekeys_uploaded(&[1, 42]));
    assert_eq!(
        both!(t, load_prekey(42)),
        None,
        "marking never resurrects a key"
    );
    assert_eq!(
        both!(t, load_prekey(1)),
        Some(Bytes::from_static(b"prekey 1"))
    );
    assert_eq!(both!(t, get_max_prekey_id()), 5);
    both!(t, remove_prekey(5));
    assert_eq!(both!(t, get_max_prekey_id()), 4);
    both!(t, store_prekey(1_000_000, b"far", false));
    assert_eq!(
        both!(t, get_max_prekey_id()),
        1_000_000,
        "numeric, not text order"
    );

    // Signed prekeys.
    both!(t, load_all_signed_prekeys());
    both!(t, store_signed_prekey(7, b"signed 7"));
    both!(t, store_signed_prekey(12, b"signed 12"));
    both!(t, store_signed_prekey(7, b"signed 7 again"));
    assert_eq!(
        both!(t, load_signed_prekey(7)),
        Some(b"signed 7 again".to_vec())
    );
    assert_eq!(both!(t, load_all_signed_prekeys(), sorted).len(), 2);
    both!(t, remove_signed_prekey(12));
    assert_eq!(both!(t, load_signed_prekey(12)), None);
    both!(t, load_all_signed_prekeys(), sorted);

    // Sender keys.
    let group_sender = "120363021033254949@g.us::15551234567:3@s.whatsapp.net";
    both!(t, get_sender_key(group_sender));
    both!(t, put_sender_key(group_sender, b"sender key"));
    let batch: Vec<(Arc<str>, Bytes)> = vec![
        (group_sender.into(), Bytes::from_static(b"sender key 2")),
        ("other::bob".into(), Bytes::from_static(b"bob key")),
    ];
    both!(t, put_sender_keys_batch(&batch));
    assert_eq!(
        both!(t, get_sender_key(group_sender)),
        Some(b"sender key 2".to_vec())
    );
    both!(t, delete_sender_key("other::bob"));
    assert_eq!(both!(t, get_sender_key("other::bob")), None);
}
