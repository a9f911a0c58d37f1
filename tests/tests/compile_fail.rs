//! Misuse of the macros fails to compile with a span on the offending token and a hint.
//! Each case's expected compiler output is its `.stderr` file under `tests/ui/`.

#[test]
fn macro_misuse_is_a_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
