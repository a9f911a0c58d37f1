//! `muse`: version control for music (and any files) with a MuseHub remote.
//!
//! ```text
//! muse clone http://hub/owner/slug [DIR]     muse init
//! muse add PATH...                           muse commit -m MSG [-a]
//! muse status                                muse log [-n N]
//! muse branch [NAME]                         muse checkout [-b] BRANCH
//! muse remote add NAME URL                   muse remote
//! muse push [REMOTE] [BRANCH] [--force]      muse pull [REMOTE] [BRANCH]
//! muse config [--global] KEY [VALUE]         muse auth enroll HUB --handle H --code C
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use muse_cli::config::{ConfigFile, global_file};
use muse_cli::repo::{Repo, valid_branch};
use muse_cli::sync::{self, Pulled};
use muse_cli::{MuseError, enroll, worktree};

#[derive(Parser, Debug)]
#[command(
    name = "muse",
    version,
    about = "Muse: version control for music, with a MuseHub remote",
    long_about = "Muse: version control for music, with a MuseHub remote.\n\n\
        Start with `muse clone http://HUB/OWNER/SLUG` (the URL muse_remote gives) or `muse init`. \
        Pushing needs a signing key: `muse auth enroll` with a code from the hub's operator, or \
        `muse config user.handle H` and `muse config user.key FILE` with a key from \
        `musehub-server keys generate`. Ids and the wire protocol: docs/muse-protocol.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Make the current folder a repository.
    Init {
        /// The first branch (default main).
        #[arg(long, default_value = "main")]
        branch: String,
    },
    /// Stage files for the next commit (a folder stages everything in it; a tracked file
    /// that is gone is staged as deleted).
    Add {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Record the staged files as a commit on the branch checked out.
    Commit {
        /// The message.
        #[arg(short, long)]
        message: String,
        /// Stage every tracked file first (changed ones re-read, deleted ones dropped).
        #[arg(short, long)]
        all: bool,
    },
    /// What changed: staged, not staged, untracked.
    Status,
    /// The history of the branch checked out, newest first.
    Log {
        /// At most this many commits.
        #[arg(short = 'n', long, default_value_t = 20)]
        max: usize,
    },
    /// List branches, or create one at the current commit.
    Branch {
        /// The branch to create.
        name: Option<String>,
    },
    /// Switch to a branch (its files replace the folder's; uncommitted changes are refused).
    Checkout {
        /// The branch.
        branch: String,
        /// Create it at the current commit first.
        #[arg(short = 'b')]
        create: bool,
    },
    /// Remotes: list them, or `remote add NAME URL`.
    Remote {
        #[command(subcommand)]
        action: Option<RemoteCommand>,
    },
    /// Send a branch to the hub (objects the hub lacks, in signed pieces; then the commits).
    Push {
        /// The remote (default origin).
        remote: Option<String>,
        /// The branch (default: the one checked out).
        branch: Option<String>,
        /// Move the hub's branch even when it is not a fast-forward.
        #[arg(long)]
        force: bool,
    },
    /// Fetch a branch from the hub and bring the branch checked out up to it (fast-forward,
    /// or a three-way merge; conflicts are listed and nothing changes).
    Pull {
        /// The remote (default origin).
        remote: Option<String>,
        /// The hub's branch (default: the one checked out).
        branch: Option<String>,
    },
    /// Copy a hub repository into a new folder.
    Clone {
        /// http://HUB/OWNER/SLUG.
        url: String,
        /// The folder (default: the slug).
        dir: Option<PathBuf>,
        /// The branch to check out (default: the hub's default branch).
        #[arg(long)]
        branch: Option<String>,
    },
    /// Read or set a configuration value (user.name, user.handle, user.key, remote.NAME.url).
    Config {
        /// In the user's config (~/.muse/config.toml) instead of the repository's.
        #[arg(long)]
        global: bool,
        /// The key.
        key: String,
        /// The value to set.
        value: Option<String>,
    },
    /// Signing keys.
    Auth {
        #[command(subcommand)]
        action: AuthCommand,
    },
}

#[derive(Subcommand, Debug)]
enum RemoteCommand {
    /// Add a remote.
    Add {
        /// Its name (origin, ...).
        name: String,
        /// http://HUB/OWNER/SLUG.
        url: String,
    },
}

#[derive(Subcommand, Debug)]
enum AuthCommand {
    /// Make a key on this machine and register it with a one-time code from the hub's
    /// operator (`musehub-server keys invite --handle H`); records user.handle and user.key.
    Enroll {
        /// The hub's base URL (http://HOST:PORT).
        hub: String,
        /// Your handle.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// The one-time code.
        #[arg(long, allow_hyphen_values = true)]
        code: String,
        /// Where to write the secret key (default ~/.muse/keys/HANDLE.key).
        #[arg(long)]
        out: Option<PathBuf>,
        /// A label for the key on the hub (default: this machine's name).
        #[arg(long)]
        label: Option<String>,
    },
}

fn here() -> anyhow::Result<PathBuf> {
    std::env::current_dir().context("the current folder")
}

fn open() -> anyhow::Result<Repo> {
    Ok(Repo::discover(&here()?)?)
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli.command).await {
        eprintln!("muse: {e:#}");
        if let Some(MuseError::Conflicts { conflicts, .. }) = e.downcast_ref::<MuseError>() {
            for c in conflicts {
                let side = |o: &Option<String>| {
                    o.as_deref()
                        .map(|s| &s[..12.min(s.len())])
                        .unwrap_or("-")
                        .to_string()
                };
                eprintln!(
                    "  conflict: {} ({:?}; base {}, ours {}, theirs {})",
                    c.path,
                    c.kind,
                    side(&c.base),
                    side(&c.ours),
                    side(&c.theirs)
                );
            }
        }
        std::process::exit(1);
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Init { branch } => {
            let root = here()?;
            Repo::init(&root, &branch)?;
            println!(
                "Initialised an empty muse repository in {} on {branch}",
                root.display()
            );
        }
        Command::Add { paths } => {
            let repo = open()?;
            for (path, kind) in worktree::add(&repo, &here()?, &paths)? {
                println!("{}: {path}", kind.word());
            }
        }
        Command::Commit { message, all } => {
            let repo = open()?;
            let c = worktree::commit(&repo, &message, all)?;
            println!(
                "[{} {}] {}",
                repo.current_branch()?,
                &c.commit_id[..12],
                first_line(&message)
            );
        }
        Command::Status => status(&open()?)?,
        Command::Log { max } => {
            let repo = open()?;
            let Some(head) = repo.head()? else {
                println!("no commits yet on {}", repo.current_branch()?);
                return Ok(());
            };
            for c in repo.history(&head)?.into_iter().take(max) {
                println!("commit {}", c.commit_id);
                if c.parent_ids.len() > 1 {
                    println!("Merge:  {}", c.parent_ids.join(" "));
                }
                println!(
                    "Author: {}\nDate:   {}\n\n    {}\n",
                    c.author,
                    c.timestamp,
                    c.message.replace('\n', "\n    ")
                );
            }
        }
        Command::Branch { name } => {
            let repo = open()?;
            match name {
                None => {
                    let current = repo.current_branch()?;
                    for (b, head) in repo.branches()? {
                        let mark = if b == current { "*" } else { " " };
                        println!("{mark} {b} {}", &head[..12.min(head.len())]);
                    }
                }
                Some(n) => create_branch(&repo, &n)?,
            }
        }
        Command::Checkout { branch, create } => {
            let repo = open()?;
            if create {
                create_branch(&repo, &branch)?;
                repo.set_current_branch(&branch)?;
            } else {
                let target = repo
                    .read_ref(&format!("heads/{branch}"))?
                    .with_context(|| format!("no branch '{branch}' (muse checkout -b {branch})"))?;
                worktree::require_clean(&repo)?;
                let from = repo.manifest_of(repo.head()?.as_deref())?;
                let to = repo.manifest_of(Some(&target))?;
                worktree::checkout(&repo, &from, &to)?;
                repo.set_current_branch(&branch)?;
            }
            println!("On branch {branch}");
        }
        Command::Remote { action } => {
            let repo = open()?;
            let mut config = repo.config()?;
            match action {
                Some(RemoteCommand::Add { name, url }) => {
                    muse_cli::remote::Remote::new(&url, None)?;
                    if config.repo.get(&format!("remote.{name}.url")).is_some() {
                        bail!("remote '{name}' exists already");
                    }
                    config.repo.set(&format!("remote.{name}.url"), &url)?;
                }
                None => {
                    for (name, url) in config.repo.remotes() {
                        println!("{name}\t{url}");
                    }
                }
            }
        }
        Command::Push {
            remote,
            branch,
            force,
        } => {
            let repo = open()?;
            let remote = remote.unwrap_or_else(|| "origin".into());
            let branch = match branch {
                Some(b) => b,
                None => repo.current_branch()?,
            };
            let p = sync::push(&repo, &remote, &branch, force).await?;
            println!(
                "pushed {branch} to {remote}: {} commit(s), {} object(s) uploaded ({} bytes); head {}",
                p.commits,
                p.uploaded,
                p.bytes,
                p.result["head_commit_id"].as_str().unwrap_or("?")
            );
        }
        Command::Pull { remote, branch } => {
            let repo = open()?;
            let remote = remote.unwrap_or_else(|| "origin".into());
            let branch = match branch {
                Some(b) => b,
                None => repo.current_branch()?,
            };
            match sync::pull(&repo, &remote, &branch).await? {
                Pulled::UpToDate => println!("Already up to date with {remote}/{branch}"),
                Pulled::FastForward(c) => println!(
                    "Fast-forward to {remote}/{branch} {}",
                    &c[..12.min(c.len())]
                ),
                Pulled::Merged(c) => println!("Merged {remote}/{branch}: {}", &c[..12]),
            }
        }
        Command::Clone { url, dir, branch } => {
            let dir = match dir {
                Some(d) => d,
                None => PathBuf::from(
                    url.trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .filter(|s| !s.is_empty())
                        .context("the URL names no repository")?,
                ),
            };
            let (repo, branch) = sync::clone(&url, &dir, branch.as_deref()).await?;
            let files = repo.index()?.len();
            println!(
                "Cloned {url} into {} ({branch}, {files} file(s))",
                dir.display()
            );
        }
        Command::Config { global, key, value } => {
            let mut file = if global {
                ConfigFile::load(&global_file().context("no home folder for --global")?)?
            } else {
                open()?.config()?.repo
            };
            match value {
                Some(v) => {
                    if key == "user.key" && !Path::new(&v).is_file() {
                        bail!("{v}: no such key file");
                    }
                    file.set(&key, &v)?;
                }
                None => {
                    let v = if global {
                        file.get(&key)
                    } else {
                        open()?.config()?.get(&key)
                    };
                    match v {
                        Some(v) => println!("{v}"),
                        None => std::process::exit(1),
                    }
                }
            }
        }
        Command::Auth {
            action:
                AuthCommand::Enroll {
                    hub,
                    handle,
                    code,
                    out,
                    label,
                },
        } => {
            let label = label
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| "muse".into());
            let e = enroll::enroll(&hub, &handle, &code, out.as_deref(), &label).await?;
            println!("handle: {}", e.handle);
            println!("kid: {}", e.kid);
            println!("key-file: {}", e.key_file.display());
            eprintln!(
                "Registered; user.handle and user.key are set in your config. The secret key never left this machine."
            );
        }
    }
    Ok(())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn create_branch(repo: &Repo, name: &str) -> anyhow::Result<()> {
    if !valid_branch(name) {
        bail!("'{name}' is not a valid branch name");
    }
    if repo.read_ref(&format!("heads/{name}"))?.is_some() {
        bail!("branch '{name}' exists already");
    }
    match repo.head()? {
        Some(head) => repo.write_ref(&format!("heads/{name}"), &head)?,
        None => bail!("no commits yet: commit before branching"),
    }
    Ok(())
}

fn status(repo: &Repo) -> anyhow::Result<()> {
    let s = worktree::status(repo)?;
    println!("On branch {}", repo.current_branch()?);
    if !s.staged.is_empty() {
        println!("Changes to be committed:");
        for (p, k) in &s.staged {
            println!("  {}: {p}", k.word());
        }
    }
    if !s.unstaged.is_empty() {
        println!("Changes not staged (muse add, or commit -a):");
        for (p, k) in &s.unstaged {
            println!("  {}: {p}", k.word());
        }
    }
    if !s.untracked.is_empty() {
        println!("Untracked files (muse add):");
        for p in &s.untracked {
            println!("  {p}");
        }
    }
    if s.is_clean() && s.untracked.is_empty() {
        println!("nothing to commit, working folder clean");
    }
    Ok(())
}
