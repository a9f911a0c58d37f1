//! The Muse reference documents (`muse://docs/*`).

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

fn doc(uri: &str, title: &str, content: &str) -> Json<Value> {
    Json(json!({ "uri": uri, "title": title, "content": content }))
}

/// What Muse is: version control for multi-dimensional state.
#[resource(
    uri = "muse://docs/overview",
    name = "Muse Paradigm Overview",
    mime_type = "application/json"
)]
pub fn doc_overview() -> Json<Value> {
    doc(
        "muse://docs/overview",
        "Muse Paradigm Overview",
        "Muse is version control for multi-dimensional state. A repository holds commits; each commit \
         records a snapshot (a manifest of paths to content-addressed objects) and its parents. A domain \
         plugin (MIDI, code, genomics, ...) tells Muse how to diff and merge along each of its dimensions \
         (for MIDI: melodic, harmonic, rhythmic, structural, dynamic, ...). MuseHub hosts repositories, \
         with issues, pull requests, reviews and releases around them.",
    )
}

/// The MuseDomainPlugin protocol.
#[resource(
    uri = "muse://docs/protocol",
    name = "MuseDomainPlugin Protocol Spec",
    mime_type = "application/json"
)]
pub fn doc_protocol() -> Json<Value> {
    doc(
        "muse://docs/protocol",
        "MuseDomainPlugin Protocol Spec",
        "A domain plugin implements: snapshot(workdir) -> manifest; diff(base, head) -> changes per \
         dimension; merge(base, ours, theirs) -> result or conflicts; and a manifest declaring its \
         dimensions, file types and viewer. Plugins are published to MuseHub as '@author/slug' with \
         musehub_publish_domain.",
    )
}

/// Conflict-free replicated data types in Muse.
#[resource(
    uri = "muse://docs/crdt",
    name = "Muse CRDT Reference",
    mime_type = "application/json"
)]
pub fn doc_crdt() -> Json<Value> {
    doc(
        "muse://docs/crdt",
        "Muse CRDT Reference",
        "Dimensions may declare CRDT merge semantics: last-writer-wins registers for scalar settings \
         (tempo, key), observed-remove sets for note collections, and sequence CRDTs for ordered \
         material. A dimension with CRDT semantics never conflicts; the others fall back to three-way \
         merge with conflicts reported per dimension.",
    )
}

/// How to write a domain plugin.
#[resource(
    uri = "muse://docs/domains",
    name = "Domain Plugin Authoring Guide",
    mime_type = "application/json"
)]
pub fn doc_domains() -> Json<Value> {
    doc(
        "muse://docs/domains",
        "Domain Plugin Authoring Guide",
        "1. Choose the dimensions your domain versions. 2. Implement snapshot, diff and merge. 3. Declare \
         capabilities (dimensions, merge semantics, file types) and a viewer type. 4. Publish with \
         musehub_publish_domain under your own handle; repositories then name it in their domain field.",
    )
}

/// How Muse merges.
#[resource(
    uri = "muse://docs/merge",
    name = "Muse Merge Semantics",
    mime_type = "application/json"
)]
pub fn doc_merge() -> Json<Value> {
    doc(
        "muse://docs/merge",
        "Muse Merge Semantics",
        "Muse merges per dimension: changes on different dimensions never conflict; changes on the same \
         dimension merge by the domain's rules (CRDT or three-way). On MuseHub a pull request merge is \
         three-way on the snapshots, path by path, against the newest common ancestor of the two branches: \
         a file changed (added, edited or deleted) on one side keeps that change, the same change on both \
         sides is kept once, and a path changed differently on both sides is a conflict. A merge with \
         conflicts is refused with code merge_conflict and the list of conflicting paths, each with the \
         object on the base and on each side; pass resolutions {path: ours | theirs | delete | object id} \
         to settle them. Strategies: merge_commit (both parents kept), squash (one commit) or rebase \
         (fast-forward when the target has not moved). A push must fast-forward its branch unless forced.",
    )
}
