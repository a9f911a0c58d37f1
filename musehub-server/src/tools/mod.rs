//! The 42 tools, by category: read, write, the Muse CLI analogues (push, pull, remote,
//! config) and the interactive tools that elicit input from the user.

pub mod interactive;
pub mod muse;
pub mod read;
pub mod write;

use musehub_mcp::Ctx;

use crate::model::RepoView;

/// Tells the sessions subscribed to a repository's resources that they changed
/// (`notifications/resources/updated`). `parts` are paths under
/// `musehub://repos/{owner}/{slug}`, `""` for the repository itself. With a shared backplane
/// the notification reaches subscribers whose stream another instance holds.
pub(crate) fn notify_changed(ctx: &Ctx, repo: &RepoView, parts: &[&str]) {
    let base = format!("musehub://repos/{}/{}", repo.owner, repo.slug);
    for part in parts {
        if part.is_empty() {
            ctx.notify_resource_updated(&base);
        } else {
            ctx.notify_resource_updated(&format!("{base}/{part}"));
        }
    }
}
