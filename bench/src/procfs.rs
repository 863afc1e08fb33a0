//! What the kernel says about processes: resident memory and CPU time from
//! /proc, and this process's open-file limit.

use std::time::Instant;

/// Resident set size of `pid` in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))
}

/// The summed RSS of several processes, in KiB.
pub fn total_rss_kib(pids: &[u32]) -> anyhow::Result<u64> {
    pids.iter().map(|p| rss_kib(*p)).sum()
}

/// User + system CPU seconds used so far by `pid` (0 for this process; 0.0
/// for a process that is gone).
pub fn cpu_secs(pid: u32) -> f64 {
    let path = if pid == 0 {
        "/proc/self/stat".to_owned()
    } else {
        format!("/proc/{pid}/stat")
    };
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the parenthesized command name; utime and stime are the 14th and 15th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    ticks as f64 / hz
}

/// User + system CPU seconds used so far by all of `pids`.
pub fn total_cpu_secs(pids: &[u32]) -> f64 {
    pids.iter().map(|p| cpu_secs(*p)).sum()
}

/// CPU use of a set of processes over an interval, as cores busy.
pub struct CpuMeter {
    pids: Vec<u32>,
    start: Instant,
    start_secs: Vec<f64>,
}

impl CpuMeter {
    /// Measures this process (pid 0) and `pids`.
    pub fn start(pids: &[u32]) -> Self {
        let pids: Vec<u32> = std::iter::once(0).chain(pids.iter().copied()).collect();
        let start_secs = pids.iter().map(|p| cpu_secs(*p)).collect();
        Self {
            pids,
            start: Instant::now(),
            start_secs,
        }
    }

    /// Cores used since the start: (this process, the others summed).
    pub fn cores(&self) -> (f64, f64) {
        let wall = self.start.elapsed().as_secs_f64().max(1e-9);
        let used: Vec<f64> = self
            .pids
            .iter()
            .zip(&self.start_secs)
            .map(|(p, s)| (cpu_secs(*p) - s).max(0.0) / wall)
            .collect();
        (used[0], used[1..].iter().sum())
    }
}

/// Raises the soft open-file limit to the hard limit; returns the new limit.
#[allow(unsafe_code)]
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
    }
    lim.rlim_cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_a_file_limit() {
        assert!(rss_kib(std::process::id()).unwrap() > 0);
        assert!(raise_fd_limit() > 0);
        assert!(cpu_secs(0) >= 0.0);
    }
}
