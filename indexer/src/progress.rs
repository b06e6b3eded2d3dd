//! A progress bar on a TTY (stderr): per chain, blocks indexed of the head, events/s and ETA.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::sync::watch;

use crate::status::Status;

/// Refreshes the bars every 250 ms until shutdown.
pub fn spawn(status: Status, mut shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template(
            "{prefix:>22} [{bar:30}] {pos}/{len} blocks  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let mut bars: Vec<(u64, ProgressBar, u64, std::time::Instant)> = Vec::new();
        loop {
            for c in status.chains() {
                if !bars.iter().any(|(id, ..)| *id == c.chain_id) {
                    let pb = multi.add(ProgressBar::new(0));
                    pb.set_style(style.clone());
                    pb.set_prefix(format!("{} {}", c.role, c.chain_id));
                    bars.push((c.chain_id, pb, c.events_indexed, std::time::Instant::now()));
                }
                if let Some((_, pb, last_events, last_t)) =
                    bars.iter_mut().find(|(id, ..)| *id == c.chain_id)
                {
                    pb.set_length(c.head.unwrap_or(0));
                    pb.set_position(c.checkpoint.unwrap_or(0));
                    let dt = last_t.elapsed().as_secs_f64();
                    if dt >= 1.0 {
                        let rate = (c.events_indexed - *last_events) as f64 / dt;
                        pb.set_message(format!("{} events, {rate:.0} events/s", c.events_indexed));
                        *last_events = c.events_indexed;
                        *last_t = std::time::Instant::now();
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        for (_, pb, ..) in bars {
            pb.finish_and_clear();
        }
    })
}
