//! lucid-keeper as a library: the daemon's parts (transaction manager, chain access, keys, intake
//! validation), so integration tests and benchmarks can drive them directly. The binary is
//! src/main.rs.

pub mod api;
pub mod daemon;
pub mod intake;
pub mod keys;
pub mod payout;
/// Monthly USDT payouts on TRON (`lucid-keeper payouts …` and the unattended treasury mode): the
/// keeper's payout path, the only code here that uses lucid-payout.
pub mod payouts;
pub mod txm;
