//! The servers under test as child processes: start on a free loopback port, read their CPU
//! time and RSS from `/proc`, stop them.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A server implementation in the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Our `bench-server`.
    Musehub,
    /// rmcp, stateless with JSON responses (its fastest configuration).
    RmcpFast,
    /// rmcp with its default configuration (sessions, SSE responses).
    RmcpDefault,
    /// A bare axum handler.
    Floor,
}

impl Kind {
    /// Every server, in report order.
    pub const ALL: [Kind; 4] = [
        Kind::Musehub,
        Kind::RmcpFast,
        Kind::RmcpDefault,
        Kind::Floor,
    ];

    /// The column name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Musehub => "musehub",
            Kind::RmcpFast => "rmcp stateless+JSON",
            Kind::RmcpDefault => "rmcp default",
            Kind::Floor => "floor (axum)",
        }
    }

    /// Is this an rmcp configuration?
    pub fn is_rmcp(self) -> bool {
        matches!(self, Kind::RmcpFast | Kind::RmcpDefault)
    }
}

/// Where the binaries live: next to this one (cargo puts every bin of the profile there).
fn bin_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe
        .parent()
        .context("the bench binary has no directory")?
        .to_path_buf())
}

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> anyhow::Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

/// A running server; killed when dropped.
pub struct Proc {
    child: Child,
    /// Its address.
    pub addr: SocketAddr,
    /// When it was spawned.
    pub spawned: Instant,
    /// Counting its allocations ([`crate::allocs`])?
    pub counting: bool,
}

impl Proc {
    /// Spawns `kind` on a free port, counting its allocations ([`crate::allocs`]).
    pub fn spawn_counting(kind: Kind) -> anyhow::Result<Self> {
        Self::spawn_with(kind, true)
    }

    /// Spawns `kind` on a free port without waiting for it.
    pub fn spawn(kind: Kind) -> anyhow::Result<Self> {
        Self::spawn_with(kind, false)
    }

    fn spawn_with(kind: Kind, counting: bool) -> anyhow::Result<Self> {
        let addr = free_port()?;
        let dir = bin_dir()?;
        let bind = addr.to_string();
        let mut cmd = match kind {
            Kind::Musehub => {
                let mut c = Command::new(dir.join("bench-server"));
                c.args([
                    "--bind",
                    &bind,
                    "--max-sessions",
                    "1000000",
                    "--max-in-flight-per-ip",
                    "100000",
                ]);
                c
            }
            Kind::RmcpFast | Kind::RmcpDefault | Kind::Floor => {
                let mut c = Command::new(std::env::current_exe()?);
                match kind {
                    Kind::RmcpFast => c.args(["serve-rmcp", "--mode", "stateless-json"]),
                    Kind::RmcpDefault => c.args(["serve-rmcp", "--mode", "session"]),
                    _ => c.args(["serve-floor"]),
                };
                c.args(["--bind", &bind]);
                c
            }
        };
        if counting {
            cmd.env(crate::allocs::ENV, "1");
        }
        let mut p = Self::spawn_command(&mut cmd, addr)?;
        p.counting = counting;
        Ok(p)
    }

    /// The server's allocation totals so far (allocations, bytes), read from its
    /// [`crate::allocs::PATH`] route over a fresh connection.
    pub async fn allocs(&self) -> anyhow::Result<(u64, u64)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(self.addr).await?;
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            crate::allocs::PATH,
            self.addr
        );
        tcp.write_all(req.as_bytes()).await?;
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).await?;
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.trim())
            .context("no body in the allocation report")?;
        let mut it = body.split(' ').map(str::parse::<u64>);
        match (it.next(), it.next()) {
            (Some(Ok(n)), Some(Ok(b))) => Ok((n, b)),
            _ => bail!("unreadable allocation report: {body:?}"),
        }
    }

    /// Spawns the 1,000-tool server (documentation surfaces off with `no_docs`); its stdout is
    /// piped (it reports its build times).
    pub fn spawn_tools1k(no_docs: bool) -> anyhow::Result<Self> {
        let addr = free_port()?;
        let mut cmd = Command::new(bin_dir()?.join("bench-tools1k"));
        cmd.args(["--bind", &addr.to_string()]);
        if no_docs {
            cmd.arg("--no-docs");
        }
        cmd.stdout(Stdio::piped());
        Self::spawn_command(&mut cmd, addr)
    }

    fn spawn_command(cmd: &mut Command, addr: SocketAddr) -> anyhow::Result<Self> {
        cmd.stdin(Stdio::null()).env("RUST_LOG", "off");
        if cmd
            .get_program()
            .to_string_lossy()
            .ends_with("bench-tools1k")
        {
            cmd.stderr(Stdio::null());
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let spawned = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {:?}", cmd.get_program()))?;
        Ok(Self {
            child,
            addr,
            spawned,
            counting: false,
        })
    }

    /// Waits until the port accepts connections.
    pub async fn ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("server exited before listening: {status}");
            }
            if Instant::now() > deadline {
                bail!("server did not listen on {} within 20 s", self.addr);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The child's stdout (piped children only).
    pub fn stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU time so far, in microseconds: the sum over the process's threads of
    /// `/proc/<pid>/task/<tid>/schedstat` (nanoseconds on CPU), or, where that is missing,
    /// `utime + stime` from `/proc/<pid>/stat` (clock ticks, 10 ms).
    pub fn cpu_us(&self) -> anyhow::Result<f64> {
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) {
            let mut ns: u64 = 0;
            let mut any = false;
            for t in tasks.flatten() {
                let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) else {
                    continue;
                };
                if let Some(v) = s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    ns += v;
                    any = true;
                }
            }
            if any {
                return Ok(ns as f64 / 1000.0);
            }
        }
        Ok(self.cpu_ticks()? as f64 * tick_us())
    }

    /// User + system CPU time so far, in clock ticks (`/proc/<pid>/stat`).
    pub fn cpu_ticks(&self) -> anyhow::Result<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // Fields after the command name (which may contain spaces) in parentheses.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .context("malformed /proc/<pid>/stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // rest starts at field 3 (state); utime is field 14, stime 15.
        let utime: u64 = fields.get(11).context("no utime")?.parse()?;
        let stime: u64 = fields.get(12).context("no stime")?.parse()?;
        Ok(utime + stime)
    }

    /// Resident set size, in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .context("no VmRSS")?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .context("malformed VmRSS")?
            .parse()?)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Microseconds per clock tick (`getconf CLK_TCK`, usually 100 Hz).
pub fn tick_us() -> f64 {
    static TICK: OnceLock<f64> = OnceLock::new();
    *TICK.get_or_init(|| {
        let hz = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|&hz| hz > 0.0)
            .unwrap_or(100.0);
        1e6 / hz
    })
}

/// One line describing the machine: CPU model, cores, memory, kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    format!("{model}, {cores} cores, {mem_gib:.0} GiB RAM, Linux {kernel}, {rustc}")
}
