//! The result cache of the enrichment service, one definition for both of
//! its forms: `mde-connector serve` (one cache for the whole process) and the
//! proxy component (one cache per instance, which `wasmtime serve` keeps only
//! with instance reuse).
//!
//! A pipeline asks about the same domains thousands of times a minute, and
//! the API allows 100 calls a minute: an answer is kept for a time to live
//! and served again, so each distinct domain costs one call per window.
//! Answers with no machines are kept too (they cost a call like any other);
//! errors never are. The time is the caller's (`now`, from any fixed origin),
//! so the cache has no clock of its own and tests need no sleeping.

use crate::query::Query;
use mde_connector::settings::Settings;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long an answer is served again by default: 15 minutes. Defender's
/// domain-to-machine data trails the devices' network events by minutes to
/// hours, so an answer that old is rarely staler than the service's own; and
/// 300 hot domains refreshed every 15 minutes cost 1,200 calls an hour, inside
/// the API's 1,500.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

/// How many answers are kept by default; the least recently used goes first.
/// A 500-machine answer is about 1 MB of text, a typical one a few KB.
pub const DEFAULT_ENTRIES: usize = 10_000;

/// Whose answer, about what: the cloud's API base, tenant and client
/// (compared without case: GUIDs and domain names are case-insensitive) and
/// the lookup with its input as the connector normalises it
/// ([`Query::normalized`]), so that `CONTOSO.com` and `contoso.com.` share an
/// entry and a domain's machines and its prevalence do not. `None` when the
/// input is one the connector refuses: such a lookup sends nothing, and its
/// error is not kept.
pub fn key(api_base: &str, tenant: &str, client: &str, query: &Query) -> Option<String> {
    let question = query.normalized()?;
    Some(format!(
        "{} {} {} {question}",
        api_base.to_ascii_lowercase(),
        tenant.trim().to_ascii_lowercase(),
        client.trim().to_ascii_lowercase()
    ))
}

/// [`key`] for the cloud and credentials of `settings`: one entry per
/// tenant and client (a bearer token's answers share one identity).
pub fn settings_key(settings: &Settings, query: &Query) -> Option<String> {
    let api_base = settings.cloud.endpoints().ok()?.api_base;
    let (tenant, client) = settings.auth.application().unwrap_or(("", ""));
    key(&api_base, tenant, client, query)
}

/// [`settings_key`] for the core's machine-list query (issue 25): its kind
/// and its input as the connector normalises it, so `FILE` and `file` hashes
/// or `FE80::1` and `fe80::1` share an entry. `None` when the connector
/// refuses the query.
pub fn query_key(settings: &Settings, query: &mde_connector::Query) -> Option<String> {
    settings_key(settings, &Query::from(query.clone()))
}

/// An answer served from the cache, and how old it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<V> {
    pub value: V,
    /// Time since the answer was stored: the `age` header, in whole seconds.
    pub age: Duration,
}

struct Entry<V> {
    value: V,
    stored: Duration,
    /// Position in `ResultCache::recency`.
    used: u64,
}

/// Answers by key, for `ttl`, at most `capacity` of them.
pub struct ResultCache<V> {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<String, Entry<V>>,
    /// Keys by last use, oldest first: the next to evict.
    recency: BTreeMap<u64, String>,
    uses: u64,
}

impl<V: Clone> ResultCache<V> {
    /// A cache that keeps nothing when `ttl` or `capacity` is zero.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        ResultCache {
            ttl,
            capacity,
            entries: HashMap::new(),
            recency: BTreeMap::new(),
            uses: 0,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Answers kept, fresh or not yet found stale.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The answer for `key` if it is younger than the time to live; a stale
    /// one is dropped.
    pub fn get(&mut self, key: &str, now: Duration) -> Option<Hit<V>> {
        let entry = self.entries.get_mut(key)?;
        let age = now.saturating_sub(entry.stored);
        if age >= self.ttl {
            let used = entry.used;
            self.entries.remove(key);
            self.recency.remove(&used);
            return None;
        }
        self.recency.remove(&entry.used);
        self.uses += 1;
        entry.used = self.uses;
        self.recency.insert(self.uses, key.to_owned());
        Some(Hit {
            value: entry.value.clone(),
            age,
        })
    }

    /// Keeps `value` for `key` from `now`, evicting the least recently used
    /// answer when full.
    pub fn insert(&mut self, key: String, value: V, now: Duration) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        if let Some(old) = self.entries.remove(&key) {
            self.recency.remove(&old.used);
        }
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.recency.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        self.uses += 1;
        self.recency.insert(self.uses, key.clone());
        self.entries.insert(
            key,
            Entry {
                value,
                stored: now,
                used: self.uses,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    fn domain(domain: &str) -> Query {
        Query::DomainMachines {
            domain: domain.into(),
        }
    }

    #[test]
    fn spellings_of_one_domain_share_a_key_and_refused_domains_have_none() {
        let k = |d| key("https://API.example", "TENANT", "Client", &domain(d));
        assert_eq!(k("contoso.com"), k(" CONTOSO.com. "));
        assert_eq!(k("Bücher.example"), k("xn--bcher-kva.example"));
        assert_ne!(k("contoso.com"), k("fabrikam.com"));
        assert_eq!(
            k("contoso.com").as_deref(),
            Some("https://api.example tenant client domain-machines contoso.com")
        );
        assert_eq!(k("contoso..com"), None);
        assert_eq!(k("evil.com/x?y"), None);
        assert_ne!(
            key("https://a", "t", "c", &domain("contoso.com")),
            key("https://a", "t2", "c", &domain("contoso.com"))
        );
    }

    #[test]
    fn each_lookup_kind_has_its_own_entries() {
        let stats = Query::DomainStats {
            domain: "Contoso.com".into(),
            look_back_hours: None,
        };
        assert_eq!(
            key("https://a", "t", "c", &stats).as_deref(),
            Some("https://a t c domain-stats contoso.com 720")
        );
        assert_ne!(
            key("https://a", "t", "c", &stats),
            key("https://a", "t", "c", &domain("contoso.com"))
        );
    }

    #[test]
    fn spellings_of_one_query_share_a_key_and_kinds_never_do() {
        use mde_connector::Query;
        let settings = Settings::default();
        let k = |query: Query| query_key(&settings, &query);
        let sha1 = "0991a395da64e1c5fbe8732ed11e6be064081d9f";
        assert_eq!(
            k(Query::File(sha1.into())),
            k(Query::File(sha1.to_uppercase()))
        );
        let at = "2024-09-22T08:00:00Z";
        let ip = |ip: &str| Query::Ip {
            ip: ip.into(),
            at: at.into(),
        };
        assert_eq!(k(ip("FE80::0:1")), k(ip("fe80::1")));
        assert_ne!(
            k(Query::User("a.b".into())),
            k(Query::Machine("a.b".into()))
        );
        assert_ne!(k(Query::User("a.b".into())), k(Query::Domain("a.b".into())));
        assert_eq!(
            k(Query::Domain("Contoso.com".into())),
            settings_key(
                &settings,
                &crate::query::Query::DomainMachines {
                    domain: "contoso.com".into()
                }
            )
        );
        assert_eq!(
            k(Query::File("d41d8cd98f00b204e9800998ecf8427e".into())),
            None
        );
        assert_eq!(
            k(Query::User("user1".into())).as_deref(),
            Some("https://api.security.microsoft.com   user-machines user user1")
        );
    }

    #[test]
    fn settings_give_their_api_base_tenant_and_client() {
        use mde_connector::settings::{Auth, ClientCredentials, Cloud};
        let settings = |tenant: &str| Settings {
            cloud: Cloud::Commercial,
            auth: Auth::ClientCredentials(ClientCredentials {
                tenant_id: tenant.into(),
                client_id: "C".into(),
                client_secret: "s".into(),
            }),
        };
        assert_eq!(
            settings_key(&settings("T"), &domain("Contoso.com")).as_deref(),
            Some("https://api.security.microsoft.com t c domain-machines contoso.com")
        );
        assert_eq!(
            settings_key(&settings("t"), &domain("contoso.com")),
            settings_key(&settings("T"), &domain("CONTOSO.COM"))
        );
    }

    #[test]
    fn an_answer_is_served_until_its_time_to_live_and_says_its_age() {
        let mut cache = ResultCache::new(s(60), 10);
        cache.insert("a".into(), 1, s(100));
        assert_eq!(
            cache.get("a", s(130)),
            Some(Hit {
                value: 1,
                age: s(30)
            })
        );
        assert_eq!(cache.get("a", s(160)), None);
        assert!(cache.is_empty(), "a stale answer is dropped");
        assert_eq!(cache.get("b", s(100)), None);
    }

    #[test]
    fn the_least_recently_used_answer_goes_first() {
        let mut cache = ResultCache::new(s(60), 2);
        cache.insert("a".into(), 1, s(0));
        cache.insert("b".into(), 2, s(0));
        assert!(cache.get("a", s(1)).is_some()); // b is now the oldest in use
        cache.insert("c".into(), 3, s(2));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("b", s(3)), None);
        assert_eq!(cache.get("a", s(3)).map(|h| h.value), Some(1));
        assert_eq!(cache.get("c", s(3)).map(|h| h.value), Some(3));
    }

    #[test]
    fn storing_again_renews_the_answer() {
        let mut cache = ResultCache::new(s(60), 2);
        cache.insert("a".into(), 1, s(0));
        cache.insert("a".into(), 2, s(50));
        assert_eq!(cache.len(), 1);
        assert_eq!(
            cache.get("a", s(100)),
            Some(Hit {
                value: 2,
                age: s(50)
            })
        );
    }

    #[test]
    fn a_cache_of_no_time_or_no_room_keeps_nothing() {
        for (ttl, capacity) in [(s(0), 10), (s(60), 0)] {
            let mut cache = ResultCache::new(ttl, capacity);
            cache.insert("a".into(), 1, s(0));
            assert_eq!(cache.get("a", s(0)), None);
            assert!(cache.is_empty());
        }
    }
}
