//! Payout identifiers, plan leaves and the period tree (SPEC §3 "PayoutRouterV0 and
//! PayoutRouterKYC", §4 "Payout amounts").
//!
//! - `payoutId = keccak256(abi.encode("lucid.payout.v1", uint32 period, address to))` (the string
//!   ABI-encoded as a dynamic `string`);
//! - `leaf = keccak256(keccak256(abi.encode(address router, uint32 period, address to, uint256 amount)))`;
//! - the period tree: SPEC §2 hashing (OpenZeppelin commutative pairs) over the leaves of both
//!   routers ordered by recipient as a 20-byte number, one leaf per recipient.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolValue;
use lucid_core::merkle::MerkleTree;

/// The domain string of payout ids.
pub const PAYOUT_ID_DOMAIN: &str = "lucid.payout.v1";

/// `keccak256(abi.encode("lucid.payout.v1", uint32 period, address to))`.
pub fn payout_id(period: u32, to: &Address) -> B256 {
    keccak256((PAYOUT_ID_DOMAIN.to_string(), period, *to).abi_encode_params())
}

/// `keccak256(keccak256(abi.encode(address router, uint32 period, address to, uint256 amount)))`.
pub fn leaf(router: &Address, period: u32, to: &Address, amount: U256) -> B256 {
    let inner = keccak256((*router, period, *to, amount).abi_encode_params());
    keccak256(inner)
}

/// One leaf of a period tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeItem {
    /// The router that pays it.
    pub router: Address,
    /// The recipient (20 bytes).
    pub to: Address,
    /// micro-USDT.
    pub amount: U256,
}

/// A period's plan tree: the root, the total and a proof per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodTree {
    /// Items ordered by recipient (ascending 20-byte number).
    pub items: Vec<TreeItem>,
    /// `leaves[i]` is the leaf of `items[i]`.
    pub leaves: Vec<B256>,
    /// Root (the leaf itself for one item).
    pub root: B256,
    /// Sum of the amounts.
    pub total: U256,
    /// `proofs[i]` proves `leaves[i]` against `root`.
    pub proofs: Vec<Vec<B256>>,
}

/// Why a tree cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// Two items for one recipient (SPEC §4: one leaf per recipient).
    #[error("recipient {0} appears twice in the plan (one leaf per recipient)")]
    DuplicateRecipient(Address),
    /// The total does not fit in uint256.
    #[error("the plan's total overflows uint256")]
    TotalOverflow,
}

impl PeriodTree {
    /// Builds the tree of `period` over `items` (any order; sorted here). `Ok(None)` when there
    /// is nothing planned (a period with no planned payout sets no root).
    pub fn build(period: u32, mut items: Vec<TreeItem>) -> Result<Option<Self>, TreeError> {
        items.sort_by_key(|a| a.to);
        let mut total = U256::ZERO;
        for w in items.windows(2) {
            if w[0].to == w[1].to {
                return Err(TreeError::DuplicateRecipient(w[0].to));
            }
        }
        for it in &items {
            total = total
                .checked_add(it.amount)
                .ok_or(TreeError::TotalOverflow)?;
        }
        let leaves: Vec<B256> = items
            .iter()
            .map(|it| leaf(&it.router, period, &it.to, it.amount))
            .collect();
        let Some(tree) = MerkleTree::new(leaves.clone()) else {
            return Ok(None);
        };
        let proofs = (0..leaves.len())
            .map(|i| tree.proof(i).unwrap_or_default())
            .collect();
        Ok(Some(Self {
            items,
            leaves,
            root: tree.root(),
            total,
            proofs,
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloy_primitives::hex;
    use lucid_core::merkle::verify;

    #[test]
    fn payout_id_is_abi_encode_with_dynamic_string() {
        // Hand-built abi.encode("lucid.payout.v1", uint32 7, address 0x11..11):
        // head: offset 0x60, period, to; tail: length 15, the bytes padded to 32.
        let to = Address::repeat_byte(0x11);
        let mut buf = Vec::new();
        let mut word = [0u8; 32];
        word[31] = 0x60;
        buf.extend_from_slice(&word);
        let mut word = [0u8; 32];
        word[31] = 7;
        buf.extend_from_slice(&word);
        let mut word = [0u8; 32];
        word[12..].copy_from_slice(to.as_slice());
        buf.extend_from_slice(&word);
        let mut word = [0u8; 32];
        word[31] = 15;
        buf.extend_from_slice(&word);
        let mut word = [0u8; 32];
        word[..15].copy_from_slice(b"lucid.payout.v1");
        buf.extend_from_slice(&word);
        assert_eq!(buf.len(), 160);
        assert_eq!(payout_id(7, &to), keccak256(&buf));
        assert_ne!(payout_id(8, &to), payout_id(7, &to));
    }

    #[test]
    fn leaf_is_double_hash_of_static_encoding() {
        let r = Address::repeat_byte(0xaa);
        let to = Address::repeat_byte(0x22);
        let mut buf = [0u8; 128];
        buf[12..32].copy_from_slice(r.as_slice());
        buf[60..64].copy_from_slice(&24321u32.to_be_bytes());
        buf[76..96].copy_from_slice(to.as_slice());
        buf[120..128].copy_from_slice(&50_000_000u64.to_be_bytes());
        let want = keccak256(keccak256(buf));
        assert_eq!(leaf(&r, 24321, &to, U256::from(50_000_000u64)), want);
        // A router's address is in the leaf: the other router's leaf differs.
        assert_ne!(
            leaf(
                &Address::repeat_byte(0xbb),
                24321,
                &to,
                U256::from(50_000_000u64)
            ),
            want
        );
        let _ = hex::encode(want);
    }

    #[test]
    fn tree_orders_by_recipient_and_proofs_verify() {
        let v0 = Address::repeat_byte(0xa0);
        let kyc = Address::repeat_byte(0xb0);
        let items = vec![
            TreeItem {
                router: v0,
                to: Address::repeat_byte(3),
                amount: U256::from(30),
            },
            TreeItem {
                router: kyc,
                to: Address::repeat_byte(1),
                amount: U256::from(10),
            },
            TreeItem {
                router: v0,
                to: Address::repeat_byte(2),
                amount: U256::from(20),
            },
        ];
        let t = PeriodTree::build(5, items).unwrap().unwrap();
        assert_eq!(t.items[0].to, Address::repeat_byte(1));
        assert_eq!(t.items[2].to, Address::repeat_byte(3));
        assert_eq!(t.total, U256::from(60));
        for i in 0..3 {
            assert!(verify(&t.proofs[i], &t.root, &t.leaves[i]));
        }
        // Hand-computed: ((l1,l2),l3) with commutative pairs; l3 moves up alone.
        let h = lucid_core::merkle::hash_pair;
        assert_eq!(t.root, h(&h(&t.leaves[0], &t.leaves[1]), &t.leaves[2]));
        assert_eq!(t.proofs[2], vec![h(&t.leaves[0], &t.leaves[1])]);
        // One item: the root is the leaf.
        let one = PeriodTree::build(5, vec![t.items[0]]).unwrap().unwrap();
        assert_eq!(one.root, one.leaves[0]);
        assert!(one.proofs[0].is_empty());
        assert_eq!(PeriodTree::build(5, vec![]).unwrap(), None);
        let dup = vec![t.items[0], t.items[0]];
        assert_eq!(
            PeriodTree::build(5, dup),
            Err(TreeError::DuplicateRecipient(Address::repeat_byte(1)))
        );
    }
}
