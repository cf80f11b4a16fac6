//! The tamper-evident audit trail: every change to a report or an incident appends an entry to
//! that record's hash chain (actor, time, action, digest of the change, hash of the previous
//! entry). Changing, removing or reordering any entry breaks every later link;
//! [`verify_chain`] names the first broken one.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::inventory::RecordKind;
use crate::rbac::{Actor, Principal};
use crate::store::{Condition, Item, ItemKey, Query, Store, StoreError, WriteOp, query_all};
use crate::time::Timestamp;

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The newest entry of a chain, kept on the audited record so the next entry can be appended in
/// the same transaction as the change it documents. The default is the head of a record not
/// yet written ([`create_ops`] sets it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: u64,
    pub hash: String,
}

/// The heads audited records keep, by chain: what each chain's end must match.
pub type RecordHeads = std::collections::BTreeMap<String, AuditHead>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// The audited record, e.g. `inc_…` or `rep_…`.
    pub chain: String,
    pub seq: u64,
    pub at: Timestamp,
    /// Who: the subject of the principal (a user id, never a name or address) and its kind.
    pub actor: String,
    pub actor_kind: String,
    pub action: String,
    /// SHA-256 of the change as stored (sealed fields stay sealed inside it), hex.
    pub change_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize)]
struct Hashed<'a> {
    chain: &'a str,
    seq: u64,
    at: &'a Timestamp,
    actor: &'a str,
    actor_kind: &'a str,
    action: &'a str,
    change_digest: &'a str,
    prev_hash: &'a str,
}

/// The actor as the audit trail records it.
pub fn actor_of(principal: &Principal) -> (String, String) {
    let kind = match &principal.actor {
        Actor::Staff => "staff".to_string(),
        Actor::Customer { tenant } => format!("customer:{tenant}"),
        Actor::System => "system".to_string(),
    };
    (principal.subject.clone(), kind)
}

impl AuditEntry {
    /// The entry after `head` (or the first one) for `change`.
    pub fn append<C: Serialize>(
        chain: &str,
        head: Option<&AuditHead>,
        at: Timestamp,
        principal: &Principal,
        action: &str,
        change: &C,
    ) -> Self {
        let change_bytes = serde_json::to_vec(change).unwrap_or_default();
        let (actor, actor_kind) = actor_of(principal);
        let mut entry = Self {
            chain: chain.to_string(),
            seq: head.map_or(1, |h| h.seq + 1),
            at,
            actor,
            actor_kind,
            action: action.to_string(),
            change_digest: crate::hex::encode(&Sha256::digest(&change_bytes)),
            prev_hash: head.map_or_else(|| GENESIS.to_string(), |h| h.hash.clone()),
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        entry
    }

    pub fn computed_hash(&self) -> String {
        let hashed = Hashed {
            chain: &self.chain,
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            actor_kind: &self.actor_kind,
            action: &self.action,
            change_digest: &self.change_digest,
            prev_hash: &self.prev_hash,
        };
        crate::hex::encode(&Sha256::digest(
            serde_json::to_vec(&hashed).unwrap_or_default(),
        ))
    }

    pub fn head(&self) -> AuditHead {
        AuditHead {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    pub fn key(&self) -> Result<ItemKey, StoreError> {
        ItemKey::new(format!("AUDIT#{}", self.chain), format!("{:012}", self.seq))
    }

    /// The stored item. The first entry of every chain is indexed, so all chains can be listed.
    pub fn to_item(&self) -> Result<Item, StoreError> {
        let mut item = Item::new(self.key()?, RecordKind::AuditEntry).with_record(self)?;
        if self.seq == 1 {
            item = item.with_gsi1(ItemKey::new(CHAINS_INDEX, &self.chain)?);
        }
        Ok(item)
    }

    /// The write that appends this entry, for the transaction of the change it records: a put
    /// only where nothing is yet, so an entry is never overwritten and two writers cannot both
    /// append the same link of a chain.
    pub fn insert_op(&self) -> Result<WriteOp, StoreError> {
        Ok(WriteOp::Put {
            item: self.to_item()?,
            condition: Condition::NotExists,
        })
    }
}

/// A record that keeps the head of its own audit chain: every change of it is one write of the
/// record (carrying the new head) and one entry on the chain, in one transaction.
pub trait Audited {
    /// The chain the record's changes are appended to (its id).
    fn chain(&self) -> String;
    fn audit_head(&mut self) -> &mut AuditHead;
    /// The record as it is stored.
    fn item(&self) -> Result<Item, crate::error::Error>;
}

/// Who changed a record, when, and how the audit trail names the change.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub at: Timestamp,
    pub by: &'a Principal,
    pub action: &'a str,
}

/// The writes that store a new record and the first entry of its chain (the record must not
/// exist yet). `change` is what the entry's digest covers.
pub fn create_ops<R: Audited>(
    record: &mut R,
    stamp: Stamp<'_>,
    change: &impl Serialize,
) -> Result<Vec<WriteOp>, crate::error::Error> {
    audited_put(record, None, Condition::NotExists, stamp, change)
}

/// The writes that store a changed record read at `version` and append the change to its chain.
/// Either both land or neither: a writer that changed the record meanwhile makes the version
/// condition fail (a lost race, see [`crate::store::retry_lost_races`]).
pub fn update_ops<R: Audited>(
    record: &mut R,
    version: u64,
    stamp: Stamp<'_>,
    change: &impl Serialize,
) -> Result<Vec<WriteOp>, crate::error::Error> {
    let head = record.audit_head().clone();
    audited_put(
        record,
        Some(head),
        Condition::Version(version),
        stamp,
        change,
    )
}

/// The record under `condition` and the entry after `head` (none: the chain's first).
fn audited_put<R: Audited>(
    record: &mut R,
    head: Option<AuditHead>,
    condition: Condition,
    stamp: Stamp<'_>,
    change: &impl Serialize,
) -> Result<Vec<WriteOp>, crate::error::Error> {
    let entry = AuditEntry::append(
        &record.chain(),
        head.as_ref(),
        stamp.at,
        stamp.by,
        stamp.action,
        change,
    );
    *record.audit_head() = entry.head();
    Ok(vec![
        WriteOp::Put {
            item: record.item()?,
            condition,
        },
        entry.insert_op()?,
    ])
}

/// The secondary-index partition listing every chain.
pub const CHAINS_INDEX: &str = "AUDIT_CHAINS";

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("audit chain {chain} breaks at entry {seq}: {reason}")]
pub struct BrokenLink {
    pub chain: String,
    pub seq: u64,
    pub reason: String,
}

/// Checks one chain, entries in stored order; names the first broken link.
pub fn verify_chain(chain: &str, entries: &[AuditEntry]) -> Result<u64, BrokenLink> {
    let broken = |seq: u64, reason: &str| BrokenLink {
        chain: chain.to_string(),
        seq,
        reason: reason.to_string(),
    };
    let mut prev = GENESIS.to_string();
    for (i, entry) in entries.iter().enumerate() {
        let expected_seq = i as u64 + 1;
        if entry.seq != expected_seq {
            return Err(broken(
                expected_seq,
                &format!("entry {expected_seq} is missing (found {})", entry.seq),
            ));
        }
        if entry.chain != chain {
            return Err(broken(entry.seq, "the entry belongs to another chain"));
        }
        if entry.prev_hash != prev {
            return Err(broken(entry.seq, "it does not link to the previous entry"));
        }
        if entry.computed_hash() != entry.hash {
            return Err(broken(
                entry.seq,
                "its content does not match its hash (modified)",
            ));
        }
        prev = entry.hash.clone();
    }
    Ok(entries.len() as u64)
}

/// Checks that a chain ends where its audited record says it does. Entries removed from the
/// end leave a chain that still links; only the head kept on the record (written in the same
/// transaction as each entry) shows the loss.
pub fn verify_head(
    chain: &str,
    entries: &[AuditEntry],
    head: &AuditHead,
) -> Result<(), BrokenLink> {
    let count = entries.len() as u64;
    if count < head.seq {
        return Err(BrokenLink {
            chain: chain.to_string(),
            seq: count + 1,
            reason: format!(
                "entries {} to {} are missing: the record's head names entry {}",
                count + 1,
                head.seq,
                head.seq
            ),
        });
    }
    match entries.last() {
        Some(last) if last.head() == *head => Ok(()),
        last => Err(BrokenLink {
            chain: chain.to_string(),
            seq: last.map_or(0, |e| e.seq),
            reason: format!(
                "the chain's last entry is not the record's head (entry {})",
                head.seq
            ),
        }),
    }
}

/// The state of one chain.
#[derive(Debug, Serialize)]
pub struct ChainReport {
    pub chain: String,
    pub entries: u64,
    pub broken: Option<BrokenLink>,
}

/// Every entry of one chain, in order.
pub async fn chain_entries(store: &dyn Store, chain: &str) -> Result<Vec<AuditEntry>, StoreError> {
    let items = query_all(
        store,
        Query::partition(format!("AUDIT#{chain}")).limit(1_000),
    )
    .await?;
    items.iter().map(Item::record).collect()
}

/// Verifies every audit chain in the store.
pub async fn verify_all_chains(store: &dyn Store) -> Result<Vec<ChainReport>, StoreError> {
    verify_all_chains_to(store, &RecordHeads::new()).await
}

/// Verifies every audit chain in the store, and each chain named in `record_heads` against the head
/// its audited record keeps (so a chain cut short at its end is found too). The chains checked
/// are those the index lists and those the records name: a chain whose first entry (the indexed
/// one) or every entry was removed is still found, by its record.
pub async fn verify_all_chains_to(
    store: &dyn Store,
    record_heads: &RecordHeads,
) -> Result<Vec<ChainReport>, StoreError> {
    let mut chains: std::collections::BTreeSet<String> = record_heads.keys().cloned().collect();
    for first in query_all(store, Query::gsi1(CHAINS_INDEX).limit(1_000)).await? {
        if let Some(index) = first.gsi1 {
            chains.insert(index.sk);
        }
    }
    let mut reports = Vec::new();
    for chain in chains {
        // A record that no longer parses is a broken link in its own right.
        let items = query_all(
            store,
            Query::partition(format!("AUDIT#{chain}")).limit(1_000),
        )
        .await?;
        let mut entries = Vec::new();
        let mut broken = None;
        for (i, item) in items.iter().enumerate() {
            match item.record::<AuditEntry>() {
                Ok(e) => entries.push(e),
                Err(e) => {
                    broken = Some(BrokenLink {
                        chain: chain.clone(),
                        seq: i as u64 + 1,
                        reason: format!("the entry cannot be read: {e}"),
                    });
                    break;
                }
            }
        }
        let broken = broken
            .or_else(|| verify_chain(&chain, &entries).err())
            .or_else(|| {
                record_heads
                    .get(&chain)
                    .and_then(|head| verify_head(&chain, &entries, head).err())
            });
        reports.push(ChainReport {
            chain,
            entries: entries.len() as u64,
            broken,
        });
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_cut_at_its_end_is_found_by_the_records_head() {
        let system = Principal::system("test");
        let at = Timestamp::UNIX_EPOCH;
        let mut entries: Vec<AuditEntry> = Vec::new();
        for action in ["a", "b", "c"] {
            let head = entries.last().map(AuditEntry::head);
            entries.push(AuditEntry::append(
                "inc_x",
                head.as_ref(),
                at,
                &system,
                action,
                &action,
            ));
        }
        let head = entries[2].head();
        assert_eq!(verify_head("inc_x", &entries, &head), Ok(()));
        // The last entry gone: the rest still links, the head names entry 3.
        let cut = &entries[..2];
        assert_eq!(verify_chain("inc_x", cut), Ok(2));
        let broken = verify_head("inc_x", cut, &head).expect_err("cut");
        assert_eq!(broken.seq, 3);
        assert!(
            broken.reason.contains("entries 3 to 3 are missing"),
            "{broken}"
        );
        // A head that is not the last entry's (an entry replaced by a forged chain).
        let other = AuditEntry::append("inc_x", Some(&entries[1].head()), at, &system, "x", &"x");
        let forked = [entries[0].clone(), entries[1].clone(), other];
        assert_eq!(verify_chain("inc_x", &forked), Ok(3));
        assert_eq!(
            verify_head("inc_x", &forked, &head).map_err(|b| b.seq),
            Err(3)
        );
    }

    /// A record with its own chain, as the areas keep them.
    #[derive(Serialize)]
    struct Note {
        id: &'static str,
        text: &'static str,
        audit: AuditHead,
    }

    impl Audited for Note {
        fn chain(&self) -> String {
            format!("note:{}", self.id)
        }

        fn audit_head(&mut self) -> &mut AuditHead {
            &mut self.audit
        }

        fn item(&self) -> Result<Item, crate::error::Error> {
            Ok(
                Item::new(ItemKey::new("NOTE#n1", "RECORD")?, RecordKind::Incident)
                    .with_record(self)?,
            )
        }
    }

    fn put_parts(op: &WriteOp) -> (&Item, &Condition) {
        match op {
            WriteOp::Put { item, condition } => (item, condition),
            other => panic!("a put, not {other:?}"),
        }
    }

    #[test]
    fn a_created_record_and_its_changes_are_written_with_linked_entries() {
        let by = staff();
        let at = Timestamp::UNIX_EPOCH;
        let mut note = Note {
            id: "n1",
            text: "first",
            audit: AuditHead::default(),
        };
        let stamp = |action| Stamp {
            at,
            by: &by,
            action,
        };
        let created = create_ops(&mut note, stamp("note.created"), &"first").expect("ops");
        let (item, condition) = put_parts(&created[0]);
        assert_eq!(condition, &Condition::NotExists);
        let stored: serde_json::Value = item.record().expect("record");
        assert_eq!(
            stored["audit"]["seq"], 1,
            "the stored record carries its new head"
        );
        let (entry_item, entry_condition) = put_parts(&created[1]);
        assert_eq!(entry_condition, &Condition::NotExists);
        let first: AuditEntry = entry_item.record().expect("entry");
        assert_eq!((first.chain.as_str(), first.seq), ("note:n1", 1));
        assert_eq!(first.action, "note.created");
        assert_eq!(note.audit, first.head());

        note.text = "second";
        let changed = update_ops(&mut note, 7, stamp("note.changed"), &"second").expect("ops");
        assert_eq!(put_parts(&changed[0]).1, &Condition::Version(7));
        let second: AuditEntry = put_parts(&changed[1]).0.record().expect("entry");
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(note.audit, second.head());
        assert_eq!(verify_chain("note:n1", &[first, second]), Ok(2));
    }

    fn staff() -> Principal {
        Principal {
            subject: "sec-1".into(),
            actor: Actor::Staff,
            roles: vec!["security_officer".into()],
            amr: vec!["pwd".into(), "otp".into()],
        }
    }

    fn chain_of(n: usize) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        let t: Timestamp = "2026-03-01T10:00:00Z".parse().expect("ts");
        for i in 0..n {
            let head = entries.last().map(AuditEntry::head);
            entries.push(AuditEntry::append(
                "inc_x",
                head.as_ref(),
                t,
                &staff(),
                "update",
                &serde_json::json!({ "i": i }),
            ));
        }
        entries
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain("inc_x", &chain_of(5)), Ok(5));
        assert_eq!(verify_chain("inc_x", &[]), Ok(0));
    }

    #[test]
    fn a_modified_entry_is_named() {
        let mut entries = chain_of(5);
        entries[2].action = "delete".into();
        let err = verify_chain("inc_x", &entries).expect_err("broken");
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("modified"));
    }

    #[test]
    fn a_rehashed_entry_breaks_the_next_link() {
        let mut entries = chain_of(5);
        entries[1].action = "forged".into();
        entries[1].hash = entries[1].computed_hash();
        let err = verify_chain("inc_x", &entries).expect_err("broken");
        assert_eq!(err.seq, 3);
    }

    #[test]
    fn a_removed_entry_is_named() {
        let mut entries = chain_of(5);
        entries.remove(3);
        assert_eq!(verify_chain("inc_x", &entries).expect_err("broken").seq, 4);
    }
}
