//! Response cache of the API's by-id reads (`GET /v1/sessions/{id}`, its chunks and chunk
//! proofs): the serialized body of each 200 or 404 answer, keyed by route and id, in a bounded
//! LRU, served without touching the store while the store provably has not changed.
//!
//! Validity (docs/decisions/indexer.md "API response cache"): every cached answer belongs to one
//! generation, the pair (in-process generation, store generation), read *before* the store read
//! that produced it; a change of either generation drops the whole cache.
//! - In-process generation ([`Status::store_generation`]): bumped when this indexer's followers
//!   report a written range or a rollback — so once `/v1/status` shows a write, no answer from
//!   before it is served.
//! - Store generation: a background task reads [`Store::data_version`] (SQLite: `PRAGMA
//!   data_version` on a connection of its own) every `max_stale / 2` while requests come in; it
//!   changes on any commit by any process. A hit is served only if the latest successful reading
//!   *started* at most `max_stale` ago; otherwise the request reads the store. So an answer served
//!   at time t reflects every commit completed before t − `max_stale`, whatever the scheduler
//!   does (a starved or failing poller turns hits into misses, never into staler answers).
//!
//! Memory: at most `entries` answers and [`MAX_BYTES`] (64 MiB) of bodies; a body over [`MAX_BODY`]
//! (1 MiB) is served but not kept.
//!
//! A backend that cannot tell (`data_version` is `None`: MongoDB, SQLite in memory) turns the
//! cache off.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use lru::LruCache;
use lucid_store::Store;
use tokio::sync::Notify;

use crate::status::Status;

/// Most bytes of bodies held, whatever `entries` says (a session's chunk list can be long).
pub const MAX_BYTES: usize = 64 << 20;
/// A body larger than this is not kept.
pub const MAX_BODY: usize = MAX_BYTES / 64;

/// Cache size and staleness bound (`--api-cache-entries`, `--api-cache-max-stale-ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most answers kept (0: no cache).
    pub entries: usize,
    /// Longest time a commit of another process may stay invisible (0: no cache).
    pub max_stale: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            entries: 10_000,
            max_stale: Duration::from_millis(50),
        }
    }
}

/// One cached answer.
#[derive(Debug, Clone)]
pub struct Cached {
    pub status: StatusCode,
    pub body: Bytes,
}

/// The generation an answer is read under (taken before the store read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    local: u64,
    store: u64,
}

struct State {
    lru: LruCache<String, Cached>,
    /// Sum of the bodies in `lru`.
    bytes: usize,
    /// Generation of everything in `lru`.
    local_gen: u64,
    store_gen: u64,
    /// Last value read from the store and when that successful reading started.
    last_version: Option<u64>,
    confirmed_at: Option<Instant>,
    /// The store cannot tell: off for good.
    disabled: bool,
}

struct Shared {
    cfg: CacheConfig,
    status: Status,
    state: Mutex<State>,
    /// Set by lookups; the poller sleeps while nobody asks.
    wanted: AtomicBool,
    wake: Arc<Notify>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Lets an idle poller see the cache is gone and end.
        self.wake.notify_one();
    }
}

/// The cache (cheap to clone); [`ResponseCache::off`] caches nothing.
#[derive(Clone)]
pub struct ResponseCache {
    shared: Option<Arc<Shared>>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.shared {
            None => f.write_str("ResponseCache(off)"),
            Some(s) => f
                .debug_struct("ResponseCache")
                .field("cfg", &s.cfg)
                .finish_non_exhaustive(),
        }
    }
}

impl State {
    fn clear(&mut self) {
        self.lru.clear();
        self.bytes = 0;
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ResponseCache {
    /// A cache that never holds anything.
    pub fn off() -> Self {
        ResponseCache { shared: None }
    }

    /// A cache over `store`; spawns its poller (needs a Tokio runtime). Off when `cfg` says 0.
    pub fn new(cfg: CacheConfig, store: Arc<dyn Store>, status: Status) -> Self {
        let Some(cap) = NonZeroUsize::new(cfg.entries) else {
            return Self::off();
        };
        if cfg.max_stale.is_zero() {
            return Self::off();
        }
        let wake = Arc::new(Notify::new());
        let shared = Arc::new(Shared {
            cfg,
            state: Mutex::new(State {
                lru: LruCache::new(cap),
                bytes: 0,
                local_gen: status.store_generation(),
                store_gen: 0,
                last_version: None,
                confirmed_at: None,
                disabled: false,
            }),
            status,
            wanted: AtomicBool::new(false),
            wake: wake.clone(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        tokio::spawn(poll(Arc::downgrade(&shared), Arc::downgrade(&store), wake));
        ResponseCache {
            shared: Some(shared),
        }
    }

    /// The cached answer, or the stamp to cache the answer about to be read from the store under
    /// (`None`: do not cache it).
    pub fn lookup(&self, key: &str) -> Result<Cached, Option<Stamp>> {
        let Some(sh) = &self.shared else {
            return Err(None);
        };
        let r = self.lookup_in(sh, key);
        match r {
            Ok(_) => sh.hits.fetch_add(1, Ordering::Relaxed),
            Err(_) => sh.misses.fetch_add(1, Ordering::Relaxed),
        };
        r
    }

    fn lookup_in(&self, sh: &Shared, key: &str) -> Result<Cached, Option<Stamp>> {
        if !sh.wanted.load(Ordering::Relaxed) {
            sh.wanted.store(true, Ordering::Relaxed);
        }
        let local = sh.status.store_generation();
        let mut st = lock(&sh.state);
        if st.disabled {
            return Err(None);
        }
        if st.local_gen != local {
            st.local_gen = local;
            st.clear();
        }
        let fresh = st
            .confirmed_at
            .is_some_and(|t| t.elapsed() <= sh.cfg.max_stale);
        if !fresh {
            drop(st);
            sh.wake.notify_one();
            return Err(None);
        }
        let stamp = Stamp {
            local: st.local_gen,
            store: st.store_gen,
        };
        match st.lru.get(key) {
            Some(c) => Ok(c.clone()),
            None => Err(Some(stamp)),
        }
    }

    /// Keeps an answer read from the store after [`ResponseCache::lookup`] gave `stamp`, unless
    /// the store changed meanwhile.
    pub fn insert(&self, key: String, stamp: Stamp, value: Cached) {
        let Some(sh) = &self.shared else {
            return;
        };
        let local = sh.status.store_generation();
        let mut st = lock(&sh.state);
        if st.local_gen != local {
            st.local_gen = local;
            st.clear();
        }
        if !st.disabled
            && stamp.local == st.local_gen
            && stamp.store == st.store_gen
            && value.body.len() <= MAX_BODY
        {
            st.bytes += value.body.len();
            if let Some((_, old)) = st.lru.push(key, value) {
                st.bytes -= old.body.len();
            }
            while st.bytes > MAX_BYTES {
                match st.lru.pop_lru() {
                    Some((_, old)) => st.bytes -= old.body.len(),
                    None => break,
                }
            }
        }
    }

    /// Prometheus lines: hits, misses (store reads) and answers held.
    pub fn prometheus(&self) -> String {
        let (hits, misses) = self.shared.as_ref().map_or((0, 0), |s| {
            (
                s.hits.load(Ordering::Relaxed),
                s.misses.load(Ordering::Relaxed),
            )
        });
        format!(
            "# HELP lucid_indexer_api_cache_hits_total By-id API reads answered from the response cache.\n\
             # TYPE lucid_indexer_api_cache_hits_total counter\n\
             lucid_indexer_api_cache_hits_total {hits}\n\
             # HELP lucid_indexer_api_cache_misses_total By-id API reads that read the store.\n\
             # TYPE lucid_indexer_api_cache_misses_total counter\n\
             lucid_indexer_api_cache_misses_total {misses}\n\
             # HELP lucid_indexer_api_cache_entries Answers held by the response cache.\n\
             # TYPE lucid_indexer_api_cache_entries gauge\n\
             lucid_indexer_api_cache_entries {}\n",
            self.len()
        )
    }

    /// Answers held (tests, metrics).
    pub fn len(&self) -> usize {
        self.shared.as_ref().map_or(0, |s| lock(&s.state).lru.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads the store's data version every `max_stale / 2` while lookups come in; sleeps otherwise.
async fn poll(shared: Weak<Shared>, store: Weak<dyn Store>, wake: Arc<Notify>) {
    let mut failures = 0u64;
    loop {
        let interval = {
            let Some(sh) = shared.upgrade() else {
                return;
            };
            if !sh.wanted.swap(false, Ordering::Relaxed) {
                drop(sh);
                wake.notified().await;
                continue;
            }
            sh.cfg.max_stale / 2
        };
        let Some(store) = store.upgrade() else {
            return;
        };
        let started = Instant::now();
        let read = store.data_version().await;
        drop(store);
        let Some(sh) = shared.upgrade() else {
            return;
        };
        match read {
            Ok(Some(v)) => {
                failures = 0;
                let mut st = lock(&sh.state);
                if st.last_version != Some(v) {
                    st.last_version = Some(v);
                    st.store_gen += 1;
                    st.clear();
                }
                st.confirmed_at = Some(started);
            }
            Ok(None) => {
                tracing::info!("the store cannot tell when it changed: API response cache off");
                let mut st = lock(&sh.state);
                st.disabled = true;
                st.clear();
                return;
            }
            Err(e) => {
                // Hits stop by themselves once the last good reading is max_stale old.
                failures += 1;
                if failures.is_power_of_two() {
                    tracing::warn!(error = %e, failures, "API response cache: cannot read the store's data version");
                }
            }
        }
        drop(sh);
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bounded_by_entries_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let store = lucid_store::open(Some(&url)).await.unwrap();
        let cfg = CacheConfig {
            entries: 1000,
            max_stale: Duration::from_secs(60),
        };
        // The cache holds the store weakly (the API state owns it): keep it alive here.
        let cache = ResponseCache::new(cfg, store.clone(), Status::default());
        let mut tries = 0;
        let stamp = loop {
            match cache.lookup("k") {
                Err(Some(s)) => break s,
                Err(None) => tokio::time::sleep(Duration::from_millis(5)).await,
                Ok(_) => panic!("nothing was inserted"),
            }
            tries += 1;
            assert!(tries < 2000, "the data version was never read");
        };
        let body = |n: usize| Cached {
            status: StatusCode::OK,
            body: Bytes::from(vec![b'x'; n]),
        };
        cache.insert("big".into(), stamp, body(MAX_BODY + 1));
        assert!(cache.is_empty(), "a body over MAX_BODY is not kept");
        for i in 0..100 {
            cache.insert(format!("k{i}"), stamp, body(MAX_BODY));
        }
        assert_eq!(cache.len(), MAX_BYTES / MAX_BODY, "bytes bound");
        assert!(
            cache.lookup("k0").is_err(),
            "least recently used went first"
        );
        assert_eq!(cache.lookup("k99").unwrap().body.len(), MAX_BODY);
        for i in 0..1500 {
            cache.insert(format!("s{i}"), stamp, body(10));
        }
        assert_eq!(cache.len(), 1000, "entries bound");
        let st = lock(&cache.shared.as_ref().unwrap().state);
        assert_eq!(st.bytes, 10_000, "byte count follows evictions");
    }
}
