//! Which account an access key acts in.

/// The account every request acts in unless its access key maps elsewhere;
/// the same default other AWS emulators use, so existing test fixtures with
/// ARNs keep working.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// The account id for an access key. Only the default mapping exists today;
/// this is the one place a configurable key-to-account table will plug in.
pub fn account_id_for(_access_key: &str) -> &'static str {
    DEFAULT_ACCOUNT_ID
}
