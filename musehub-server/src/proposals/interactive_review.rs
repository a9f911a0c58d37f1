//! The interactive review: asks the user for the focus and depth, then reports on the branches.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::db::Db;
use crate::elicit;
use crate::history;
use crate::params::{Need, RepoRef};
use crate::proposals::{self, ProposalView};
use crate::repos;

/// Review focus.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDimension {
    /// Melody.
    Melodic,
    /// Harmony.
    Harmonic,
    /// Rhythm.
    Rhythmic,
    /// Form.
    Structural,
    /// Dynamics.
    Dynamic,
    /// Everything.
    All,
}

/// Review depth.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDepth {
    /// A glance.
    Quick,
    /// The usual.
    Standard,
    /// Every file.
    Thorough,
}

/// A review report.
#[schema(no_deserialize)]
pub struct ReviewReport {
    /// The proposal.
    pub pull_request: ProposalView,
    /// Focus.
    pub dimension: String,
    /// Depth.
    pub depth: String,
    /// Commits the proposal adds.
    pub commits_ahead: i64,
    /// Commits the target gained since the proposal branched.
    pub commits_behind: i64,
    /// Paths added.
    pub added: Vec<String>,
    /// Paths removed.
    pub removed: Vec<String>,
    /// Paths modified.
    pub modified: Vec<String>,
    /// Paths both branches changed differently since they split (the merge would refuse them).
    pub conflicts: Vec<String>,
    /// Observations.
    pub findings: Vec<String>,
    /// APPROVE, REQUEST_CHANGES or COMMENT.
    pub recommendation: String,
    /// True when the focus came from the user through elicitation.
    pub elicited: bool,
}

/// Review a proposal interactively: asks the user for the focus (dimension) and depth unless
/// `dimension` or `depth` is given, then compares the branches and reports findings and a
/// recommendation. Reports progress.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    open_world = true,
    title = "Interactive review",
    category = "interactive"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_review_pr_interactive(
    ctx: &Ctx,
    State(db): State<Db>,
    elicit: Elicitation,
    progress: Progress,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
    #[arg(
        desc = "Focus: melodic, harmonic, rhythmic, structural, dynamic or all. Given, the tool does not ask."
    )]
    dimension: Option<ReviewDimension>,
    #[arg(desc = "Depth: quick, standard or thorough. Given, the tool does not ask.")]
    depth: Option<ReviewDepth>,
) -> Result<Json<ReviewReport>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let pr = proposals::find_pr(&db, &repo, &pr_id).await?;
    let (dimension, depth, elicited) = if dimension.is_some() || depth.is_some() {
        (
            dimension
                .map(|d| elicit::enum_name(&d))
                .unwrap_or_else(|| "all".into()),
            depth
                .map(|d| elicit::enum_name(&d))
                .unwrap_or_else(|| "standard".into()),
            false,
        )
    } else {
        let schema = json!({
            "type": "object",
            "properties": {
                "dimension_focus": {"type": "string", "title": "Focus", "description": "Which musical dimension to review", "enum": ["all", "melodic", "harmonic", "rhythmic", "structural", "dynamic"], "default": "all"},
                "review_depth": {"type": "string", "title": "Depth", "description": "How deep to go", "enum": ["quick", "standard", "thorough"], "default": "standard"}
            },
            "required": ["dimension_focus", "review_depth"]
        });
        let a = elicit::ask(
            &elicit,
            "`dimension` and/or `depth`",
            "review focus form",
            &format!("How should pull request #{} be reviewed?", pr.number),
            schema,
        )
        .await?;
        (
            a.get("dimension_focus")
                .and_then(Value::as_str)
                .unwrap_or("all")
                .to_string(),
            a.get("review_depth")
                .and_then(Value::as_str)
                .unwrap_or("standard")
                .to_string(),
            true,
        )
    };
    progress
        .report(
            0.0,
            Some(3.0),
            Some(&format!(
                "Analysing PR #{} ({dimension} / {depth})",
                pr.number
            )),
        )
        .await;
    let from = history::branch_head(&db, &repo.repo_id, &pr.from_branch)
        .await?
        .flatten();
    let to = history::branch_head(&db, &repo.repo_id, &pr.to_branch)
        .await?
        .flatten();
    progress
        .report(1.0, Some(3.0), Some("Computing branch divergence…"))
        .await;
    let all = history::all_commits(&db, &repo.repo_id).await?;
    let set = |h: &Option<String>| -> std::collections::HashSet<String> {
        h.as_ref()
            .map(|h| {
                history::reachable(&all, h)
                    .into_iter()
                    .map(|c| c.commit_id)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (fs, ts) = (set(&from), set(&to));
    let commits_ahead = fs.difference(&ts).count() as i64;
    let commits_behind = ts.difference(&fs).count() as i64;
    // What the proposal changes is measured from where it split off the target (the merge
    // base), so work that landed on the target meanwhile is not reported as "removed".
    let base = match (&from, &to) {
        (Some(f), Some(t)) => {
            crate::history::merge::merge_base(&crate::history::merge::CommitGraph(&all), t, f)
        }
        _ => None,
    };
    let manifest_at = async |c: &Option<String>| match c {
        Some(c) => history::manifest(&db, &repo.repo_id, c).await,
        None => Ok(Default::default()),
    };
    let fm = manifest_at(&from).await?;
    let tm = manifest_at(&to).await?;
    let bm = manifest_at(&base).await?;
    let added: Vec<String> = fm
        .keys()
        .filter(|p| !bm.contains_key(*p))
        .cloned()
        .collect();
    let removed: Vec<String> = bm
        .keys()
        .filter(|p| !fm.contains_key(*p))
        .cloned()
        .collect();
    let modified: Vec<String> = fm
        .iter()
        .filter(|(p, o)| bm.get(*p).is_some_and(|b| b != *o))
        .map(|(p, _)| p.clone())
        .collect();
    let conflicts: Vec<String> = if to.is_some() {
        crate::history::merge::three_way(&bm, &tm, &fm)
            .conflicts
            .into_iter()
            .map(|c| c.path)
            .collect()
    } else {
        Vec::new()
    };
    progress
        .report(2.0, Some(3.0), Some("Building review report…"))
        .await;
    let reviews = proposals::proposal_reviews(&db, &pr.pr_id).await?;
    let mut findings = Vec::new();
    if commits_ahead == 0 {
        findings.push("The proposal adds no commits to the target branch.".to_string());
    } else {
        findings.push(format!(
            "{commits_ahead} history::commit(s) to merge; {} file(s) added, {} removed, {} modified.",
            added.len(),
            removed.len(),
            modified.len()
        ));
    }
    if commits_behind > 0 {
        findings.push(format!(
            "The target branch has {commits_behind} history::commit(s) the proposal lacks; they are kept by the merge."
        ));
    }
    if !conflicts.is_empty() {
        findings.push(format!(
            "Conflicts with the target branch: {}. Merge the target into the proposal branch first.",
            conflicts.join(", ")
        ));
    }
    if !removed.is_empty() {
        findings.push(format!("Removes: {}.", removed.join(", ")));
    }
    if depth == "thorough" {
        for p in added.iter().chain(modified.iter()) {
            findings.push(format!(
                "Review {p} ({}) for {dimension} consistency.",
                history::mime_for(p)
            ));
        }
    }
    let changes_requested = reviews.iter().any(|r| r.event == "request_changes");
    let recommendation = if changes_requested || !conflicts.is_empty() {
        "REQUEST_CHANGES"
    } else if commits_ahead > 0 && commits_behind == 0 {
        "APPROVE"
    } else {
        "COMMENT"
    };
    if changes_requested {
        findings.push("A reviewer has requested changes.".into());
    }
    progress
        .report(3.0, Some(3.0), Some("Review complete."))
        .await;
    Ok(Json(ReviewReport {
        pull_request: pr,
        dimension,
        depth,
        commits_ahead,
        commits_behind,
        added,
        removed,
        modified,
        conflicts,
        findings,
        recommendation: recommendation.into(),
        elicited,
    }))
}
