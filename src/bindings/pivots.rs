//! Issue 25's exports: the WIT's query, query results and prevalence records
//! to and from the core's. Conversion only, as in the parent module.

use super::{CONNECTOR, ImportedHost, error_to_wit, settings_from, wit, wit_settings};
use crate::response::Kept;
use crate::{connector, machine, routes};

/// A machine list as typed records.
pub(super) fn typed(query: routes::Query) -> Result<Vec<wit::Machine>, wit::Error> {
    let found = core_query::<machine::Machine>(query)?;
    Ok(found.machines.into_iter().map(Into::into).collect())
}

pub(super) fn lookup_query(query: wit::Query) -> Result<wit::QueryResult, wit::Error> {
    let found = core_query::<machine::Machine>(query.into())?;
    Ok(wit::QueryResult {
        query: found.query.into(),
        machines: found.machines.into_iter().map(Into::into).collect(),
        cap_reached: found.cap_reached,
    })
}

pub(super) fn lookup_query_texts(query: wit::Query) -> Result<wit::QueryTextsResult, wit::Error> {
    let found = core_query::<String>(query.into())?;
    Ok(wit::QueryTextsResult {
        query: found.query.into(),
        machines: found.machines,
        cap_reached: found.cap_reached,
    })
}

/// The core's machine list for any query, with its error as the WIT's.
fn core_query<M: Kept>(query: routes::Query) -> Result<connector::Found<M>, wit::Error> {
    let settings = settings_from(wit_settings::get());
    CONNECTOR
        .with(|c| {
            c.borrow_mut()
                .query_as(&settings, &query, &mut ImportedHost)
        })
        .map_err(error_to_wit)
}

pub(super) fn domain_stats(
    domain: String,
    look_back_hours: Option<u32>,
) -> Result<wit::DomainPrevalence, wit::Error> {
    let settings = settings_from(wit_settings::get());
    let p = CONNECTOR
        .with(|c| {
            c.borrow_mut()
                .domain_stats(&settings, &domain, look_back_hours, &mut ImportedHost)
        })
        .map_err(error_to_wit)?;
    Ok(p.into())
}

pub(super) fn ip_stats(
    ip: String,
    look_back_hours: Option<u32>,
) -> Result<wit::IpPrevalence, wit::Error> {
    let settings = settings_from(wit_settings::get());
    let p = CONNECTOR
        .with(|c| {
            c.borrow_mut()
                .ip_stats(&settings, &ip, look_back_hours, &mut ImportedHost)
        })
        .map_err(error_to_wit)?;
    Ok(p.into())
}

// The prevalence records to the WIT's (and back), field for field.
crate::prevalence_conversions!(super::wit);

/// A `lookup-query-texts` answer in the core's shape.
pub(super) fn found_from_texts(found: wit::QueryTextsResult) -> connector::Found<String> {
    connector::Found {
        query: found.query.into(),
        machines: found.machines,
        cap_reached: found.cap_reached,
    }
}

impl From<wit::Query> for routes::Query {
    fn from(q: wit::Query) -> Self {
        match q {
            wit::Query::Domain(d) => routes::Query::Domain(d),
            wit::Query::File(sha1) => routes::Query::File(sha1),
            wit::Query::User(name) => routes::Query::User(name),
            wit::Query::Ip(wit::IpAt { ip, at }) => routes::Query::Ip { ip, at },
            wit::Query::Machine(id) => routes::Query::Machine(id),
        }
    }
}

impl From<routes::Query> for wit::Query {
    fn from(q: routes::Query) -> Self {
        match q {
            routes::Query::Domain(d) => wit::Query::Domain(d),
            routes::Query::File(sha1) => wit::Query::File(sha1),
            routes::Query::User(name) => wit::Query::User(name),
            routes::Query::Ip { ip, at } => wit::Query::Ip(wit::IpAt { ip, at }),
            routes::Query::Machine(id) => wit::Query::Machine(id),
        }
    }
}
