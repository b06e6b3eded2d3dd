//! Merkle trees over session chunks (SPEC §2), compatible with OpenZeppelin `MerkleProof`.

use alloy_primitives::{B256, keccak256};

use crate::session::{Chunk, SessionError, validate_chunks};

/// `keccak256(keccak256(abi.encode(bytes32 sessionId, uint32 index, bytes32 chunkHash, uint64 size)))`.
pub fn leaf(session_id: &B256, index: u32, chunk_hash: &B256, size: u64) -> B256 {
    let mut buf = [0u8; 128];
    buf[..32].copy_from_slice(session_id.as_slice());
    buf[60..64].copy_from_slice(&index.to_be_bytes());
    buf[64..96].copy_from_slice(chunk_hash.as_slice());
    buf[120..128].copy_from_slice(&size.to_be_bytes());
    keccak256(keccak256(buf))
}

/// The leaf of a chunk.
pub fn chunk_leaf(session_id: &B256, c: &Chunk) -> B256 {
    leaf(session_id, c.index, &c.chunk_hash, c.size)
}

/// OpenZeppelin's commutative hash: `keccak256(min(a,b) ‖ max(a,b))`.
pub fn hash_pair(a: &B256, b: &B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

/// A complete tree: every level from the leaves (level 0) up to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    levels: Vec<Vec<B256>>,
}

impl MerkleTree {
    /// Builds the tree over leaves in index order. `None` if there are no leaves.
    pub fn new(leaves: Vec<B256>) -> Option<Self> {
        if leaves.is_empty() {
            return None;
        }
        let mut levels = vec![leaves];
        while let Some(cur) = levels.last().filter(|l| l.len() > 1) {
            let next: Vec<B256> = cur
                .chunks(2)
                .map(|p| {
                    if p.len() == 2 {
                        hash_pair(&p[0], &p[1])
                    } else {
                        p[0]
                    }
                })
                .collect();
            levels.push(next);
        }
        Some(Self { levels })
    }

    /// Builds the tree of a session's chunks (validated: non-empty, indexed 0.., sizes in range).
    pub fn from_chunks(session_id: &B256, chunks: &[Chunk]) -> Result<Self, SessionError> {
        validate_chunks(chunks)?;
        let leaves = chunks.iter().map(|c| chunk_leaf(session_id, c)).collect();
        Self::new(leaves).ok_or(SessionError::NoChunks)
    }

    /// The leaves (level 0).
    pub fn leaves(&self) -> &[B256] {
        &self.levels[0]
    }

    /// The root (the leaf itself for a one-leaf tree).
    pub fn root(&self) -> B256 {
        self.levels.last().map_or(B256::ZERO, |l| l[0])
    }

    /// Proof of leaf `i`: siblings bottom-up, skipping levels where the node moved up alone.
    pub fn proof(&self, mut i: usize) -> Option<Vec<B256>> {
        if i >= self.leaves().len() {
            return None;
        }
        let mut out = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            let sib = i ^ 1;
            if sib < level.len() {
                out.push(level[sib]);
            }
            i /= 2;
        }
        Some(out)
    }
}

/// Root over leaves in index order (`None` if empty).
pub fn root(leaves: &[B256]) -> Option<B256> {
    MerkleTree::new(leaves.to_vec()).map(|t| t.root())
}

/// OpenZeppelin `MerkleProof.processProof`.
pub fn process_proof(proof: &[B256], leaf: &B256) -> B256 {
    proof.iter().fold(*leaf, |acc, p| hash_pair(&acc, p))
}

/// OpenZeppelin `MerkleProof.verify`.
pub fn verify(proof: &[B256], root: &B256, leaf: &B256) -> bool {
    process_proof(proof, leaf) == *root
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    fn leaves(n: usize) -> Vec<B256> {
        (0..n)
            .map(|i| keccak256((i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn one_leaf_root_is_leaf() {
        let l = leaves(1);
        let t = MerkleTree::new(l.clone()).expect("tree");
        assert_eq!(t.root(), l[0]);
        assert_eq!(t.proof(0), Some(vec![]));
        assert!(MerkleTree::new(vec![]).is_none());
    }

    #[test]
    fn every_proof_verifies_for_many_sizes() {
        for n in 1..=33 {
            let l = leaves(n);
            let t = MerkleTree::new(l.clone()).expect("tree");
            for (i, leaf) in l.iter().enumerate() {
                let p = t.proof(i).expect("proof");
                assert!(verify(&p, &t.root(), leaf), "n={n} i={i}");
                assert!(!verify(&p, &t.root(), &keccak256(leaf)));
            }
            assert!(t.proof(n).is_none());
        }
    }

    #[test]
    fn odd_node_moves_up() {
        let l = leaves(3);
        let t = MerkleTree::new(l.clone()).expect("tree");
        assert_eq!(t.root(), hash_pair(&hash_pair(&l[0], &l[1]), &l[2]));
        assert_eq!(t.proof(2).expect("p"), vec![hash_pair(&l[0], &l[1])]);
        let l5 = leaves(5);
        let t5 = MerkleTree::new(l5.clone()).expect("tree");
        // Leaf 4 moves up alone twice.
        assert_eq!(t5.proof(4).expect("p").len(), 1);
    }

    #[test]
    fn leaf_encoding() {
        let sid = b256!("0f8fad5bd9cb469fa16570867728950e00000000000000000000000000000000");
        let h = b256!("1111111111111111111111111111111111111111111111111111111111111111");
        let mut enc = Vec::new();
        enc.extend_from_slice(sid.as_slice());
        enc.extend_from_slice(&[0u8; 28]);
        enc.extend_from_slice(&7u32.to_be_bytes());
        enc.extend_from_slice(h.as_slice());
        enc.extend_from_slice(&[0u8; 24]);
        enc.extend_from_slice(&1000u64.to_be_bytes());
        assert_eq!(leaf(&sid, 7, &h, 1000), keccak256(keccak256(&enc)));
        use alloy_sol_types::SolValue;
        let abi = (sid, 7u32, h, 1000u64).abi_encode_params();
        assert_eq!(abi, enc);
    }
}
