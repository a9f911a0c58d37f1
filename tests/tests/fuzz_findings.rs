//! Inputs found by the fuzz targets (`musehub-mcp/fuzz/`), kept as regression tests.

use musehub_mcp::registry::uri_template::UriTemplate;

/// Found by `uri_template` (crash-d6b6fa51): a template may name one variable twice
/// (`{slug}` and `{+slug}`). `matches` keeps only the last value (here `jazz\x19ses!sion` is
/// dropped silently), and expanding what matched gives a URI that no longer matches. Either
/// `parse` should refuse a repeated name, or `matches` should require the occurrences to agree.
/// Fixed: `parse` refuses a repeated name.
#[test]
fn a_variable_named_twice_is_refused() {
    assert!(UriTemplate::parse("musehub://repos/{owner}/{slug}/blob/{+slug}").is_err());
    assert!(UriTemplate::parse("musehub://repos/{owner}/{owner}").is_err());
}
