//! `AppSyncStore`: sync keys, collection versions, mutation MACs.

use std::collections::HashMap;

use whatsapp_rust::store::traits::{AppStateSyncKey, AppSyncStore};
use whatsapp_rust::wacore::appstate::hash::HashState;
use whatsapp_rust::wacore::appstate::processor::AppStateMutationMAC;

use super::{json, Pair};
use crate::both;

fn mac(index: u8, value: &[u8]) -> AppStateMutationMAC {
    AppStateMutationMAC {
        index_mac: vec![index; 32],
        value_mac: value.to_vec(),
    }
}

pub async fn story(t: &Pair) {
    // Sync keys and the latest one.
    both!(t, get_sync_key(b"key-1"), json);
    assert_eq!(both!(t, get_latest_sync_key_id()), None);
    let key = |byte: u8, timestamp| AppStateSyncKey {
        key_data: vec![byte; 32],
        fingerprint: vec![byte, 1, 2],
        timestamp,
    };
    both!(t, set_sync_key(b"key-1", key(9, 100)));
    both!(t, set_sync_key(b"\x00\xffkey-2", key(8, 200)));
    assert_eq!(
        both!(t, get_latest_sync_key_id()),
        Some(b"\x00\xffkey-2".to_vec())
    );
    let got = both!(t, get_sync_key(b"key-1"), json);
    assert_eq!(got, json(Some(key(9, 100))));
    both!(t, set_sync_key(b"key-1", key(7, 300)));
    assert_eq!(both!(t, get_latest_sync_key_id()), Some(b"key-1".to_vec()));
    both!(t, get_sync_key(b"key-1"), json);

    // Collection versions.
    both!(t, get_version("regular"), json);
    let state = HashState {
        version: 5,
        hash: [7; 128],
        index_value_map: HashMap::from([("idx".to_owned(), vec![1, 2, 3])]),
        ..HashState::default()
    };
    both!(t, set_version("regular", state.clone()));
    let got = both!(t, get_version("regular"), json);
    assert_eq!(got, json(&state));
    both!(t, get_version("critical_block"), json);

    // Mutation MACs, per collection.
    both!(
        t,
        put_mutation_macs("regular", 1, &[mac(1, b"v1"), mac(2, b"v2")])
    );
    both!(
        t,
        put_mutation_macs("critical_block", 1, &[mac(1, b"other")])
    );
    both!(t, put_mutation_macs("regular", 2, &[mac(2, b"v2 again")]));
    assert_eq!(
        both!(t, get_mutation_mac("regular", &[1; 32])),
        Some(b"v1".to_vec())
    );
    assert_eq!(
        both!(t, get_mutation_mac("critical_block", &[1; 32])),
        Some(b"other".to_vec())
    );
    both!(t, get_mutation_mac("regular", &[3; 32]));
    let got = both!(
        t,
        get_mutation_macs("regular", &[[1; 32], [2; 32], [3; 32]])
    );
    assert_eq!(got.len(), 2);
    assert_eq!(got[&[2; 32]], b"v2 again");
    both!(t, get_mutation_macs("regular", &[]));
    both!(
        t,
        delete_mutation_macs("regular", &[vec![1; 32], vec![9; 32]])
    );
    assert_eq!(both!(t, get_mutation_mac("regular", &[1; 32])), None);
    both!(t, clear_mutation_macs("critical_block"));
    assert_eq!(both!(t, get_mutation_mac("critical_block", &[1; 32])), None);
    assert!(both!(t, get_mutation_mac("regular", &[2; 32])).is_some());
}
