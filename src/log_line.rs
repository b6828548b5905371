//! A log record as a host prints it, one definition for every host that
//! prints the component's records on stderr (the CLI, the command
//! component's settings-from-env): `mde-connector LEVEL EVENT: MESSAGE`,
//! escaped and bounded as error lines are.

use crate::connector::Level;
use crate::output::one_line;

impl Level {
    /// `debug`, `info`, `warn` or `error`: as `MDE_LOG` and `--log-level` name it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// The level a setting names, if it names one.
    pub fn named(name: &str) -> Option<Level> {
        [Level::Debug, Level::Info, Level::Warn, Level::Error]
            .into_iter()
            .find(|level| level.name() == name)
    }

    /// Whether a record at this level is printed when the least is `least`.
    pub fn at_least(self, least: Level) -> bool {
        self as u8 >= least as u8
    }
}

/// One record as a line (without its line break).
pub fn log_line(level: Level, event: &str, message: &str) -> String {
    one_line(&format!(
        "mde-connector {} {event}: {message}",
        level.name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_by_name_and_rank() {
        assert_eq!(Level::named("warn"), Some(Level::Warn));
        assert_eq!(Level::named("WARN"), None);
        assert!(Level::Error.at_least(Level::Warn));
        assert!(Level::Warn.at_least(Level::Warn));
        assert!(!Level::Info.at_least(Level::Warn));
        assert!(Level::Debug.at_least(Level::Debug));
    }

    #[test]
    fn a_line_is_escaped_and_bounded() {
        assert_eq!(
            log_line(
                Level::Warn,
                "result-cap-reached",
                "500 \u{1b}[31mmachines\n"
            ),
            "mde-connector warn result-cap-reached: 500 \\u{1b}[31mmachines\\n"
        );
        let long = log_line(Level::Info, "e", &"x".repeat(5000));
        assert!(long.chars().count() < 1100 && long.ends_with("more characters)"));
    }
}
