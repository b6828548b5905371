//! `mde-connector check`: sign in with the configured credentials and say
//! which cloud and tenant the token is for, its roles, and which lookups
//! they permit. Never prints the token. Exits non-zero when the domain
//! lookup is not permitted.

use crate::options::Options;
use crate::output;
use anyhow::Result;
use clap::Args;
use mde_connector::check::TokenReport;
use mde_connector::output::{EXIT_AUTH, exit_status};
use mde_connector::permissions::Lookup;
use mde_connector_host::fake_tenant::FakeTenant;
use mde_connector_host::live::{LiveOptions, LiveTransport};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub options: Options,
}

pub fn run(args: &CheckArgs) -> Result<ExitCode> {
    let options = &args.options;
    let settings = options.settings()?;
    let runtime = options.runtime()?;
    let mut instance = match options.live {
        true => runtime.instantiate(
            settings,
            LiveTransport::new(&LiveOptions::default()).map_err(anyhow::Error::msg)?,
        )?,
        false => runtime.instantiate(settings, FakeTenant::new(runtime.clock().clone()))?,
    };
    match instance.check()? {
        Ok(report) => {
            print!("{}", describe(&options.cloud, &report));
            Ok(match report.permits(Lookup::DomainMachines) {
                true => ExitCode::SUCCESS,
                false => ExitCode::from(EXIT_AUTH),
            })
        }
        Err(e) => {
            let e = mde_connector::Error::from(e);
            eprintln!("error: {}", output::one_line(&e.to_string()));
            Ok(ExitCode::from(exit_status(&e)))
        }
    }
}

/// The report on a token for `cloud` (its `--cloud` name) as lines for people.
pub fn describe(cloud: &str, report: &TokenReport) -> String {
    let claims = &report.claims;
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not in the token)".into());
    let mut text = format!("cloud: {cloud}\napi: {}\n", report.api_base);
    if let Some(login) = &report.login_host {
        text.push_str(&format!("signed in at: {login}\n"));
    }
    text.push_str(&format!("tenant: {}\n", or_unknown(&claims.tenant_id)));
    text.push_str(&format!("application: {}\n", or_unknown(&claims.app_id)));
    text.push_str(&format!("audience: {}\n", or_unknown(&claims.audience)));
    if let Some(cloud) = &report.audience_cloud {
        text.push_str(&format!(
            "warning: the token is for another cloud's API: try --cloud {cloud}\n"
        ));
    }
    if let Some(exp) = claims.expires_at {
        text.push_str(&format!("expires: {exp} (seconds since 1970, UTC)\n"));
    }
    text.push_str(&format!(
        "roles: {}\n",
        match claims.roles.is_empty() {
            true => "none (grant an application permission, then admin consent)".to_owned(),
            false => claims.roles.join(", "),
        }
    ));
    text.push_str("lookups:\n");
    for (lookup, permitted) in &report.lookups {
        match permitted {
            true => text.push_str(&format!("  {:<16} permitted\n", lookup.name())),
            false => text.push_str(&format!(
                "  {:<16} not permitted: grant {} (application permission, admin consent)\n",
                lookup.name(),
                lookup.roles()[0]
            )),
        }
    }
    text
}
