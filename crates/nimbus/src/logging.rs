//! Log set-up: human-readable lines on stderr, filtered by `--log-level`.
//! Stdout is left to the one "listening on" line, which tools parse.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// HTTP libraries whose debug output is per-frame protocol noise. A bare
/// level (`--log-level debug`) caps them at `warn`, so "debug" means nimbus's
/// own debug lines; explicit directives (`debug,h2=trace`) are used as given.
const NOISY_DEPENDENCIES: &[&str] = &["h2", "hyper", "hyper_util"];

/// Installs the global subscriber. Fails, with a message for the user, when
/// the filter does not parse.
pub fn init(filter: &str) -> Result<(), String> {
    let directives = expand(filter);
    let env_filter = EnvFilter::try_new(&directives)
        .map_err(|e| format!("invalid --log-level '{filter}': {e}"))?;
    // Colours only for people: not in files, pipes, or when NO_COLOR is set.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init()
        .map_err(|e| format!("cannot install the logger: {e}"))
}

/// Turns a bare level into directives that keep dependencies quiet.
fn expand(filter: &str) -> String {
    let filter = filter.trim();
    let bare_level = ["trace", "debug", "info", "warn", "error", "off"]
        .iter()
        .any(|level| filter.eq_ignore_ascii_case(level));
    let chatty = ["trace", "debug", "info"]
        .iter()
        .any(|level| filter.eq_ignore_ascii_case(level));
    if bare_level && chatty {
        let mut directives = filter.to_ascii_lowercase();
        for dependency in NOISY_DEPENDENCIES {
            directives.push_str(&format!(",{dependency}=warn"));
        }
        directives
    } else {
        filter.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_levels_quiet_dependencies() {
        assert_eq!(expand("debug"), "debug,h2=warn,hyper=warn,hyper_util=warn");
        assert_eq!(expand("INFO"), "info,h2=warn,hyper=warn,hyper_util=warn");
        assert_eq!(expand("warn"), "warn");
        assert_eq!(expand("debug,h2=trace"), "debug,h2=trace");
    }
}
