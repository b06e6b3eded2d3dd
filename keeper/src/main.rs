//! lucid-keeper: ingests task proofs, computes PoOT credits and the leader schedule, anchors sessions.
fn main() -> anyhow::Result<()> {
    anyhow::bail!("no command yet")
}
