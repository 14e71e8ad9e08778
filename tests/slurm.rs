//! A sweep through a real Slurm: a single-node cluster on localhost (Debian's slurm-wlm and
//! munge, started by scripts/slurm/local_cluster.sh in a private directory, stopped at the
//! end), scripts/slurm/sweep.sbatch submitting a job array and a dependent merge job, and the
//! merged tables compared with a local `-j 2` run of the same sweep.
//!
//! Skipped, with the reason printed, where Slurm is not installed (`.ci/run` installs it) or
//! the test does not run as root (the daemons need it).

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Stops the cluster however the test ends.
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    fn cmd(&self, sub: &str) -> std::process::Output {
        Command::new("timeout")
            .args(["120", "bash"])
            .arg(root().join("scripts/slurm/local_cluster.sh"))
            .arg(sub)
            .env("SYNSIM_SLURM_DIR", &self.dir)
            .env("SYNSIM_SLURM_CTLD_PORT", "6917")
            .env("SYNSIM_SLURM_SLURMD_PORT", "6918")
            .output()
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = self.cmd("stop");
        if !out.status.success() {
            eprintln!(
                "stopping the cluster: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_sweep_through_a_slurm_job_array_merges_to_the_local_tables() {
    let missing: Vec<&str> = ["sbatch", "slurmctld", "slurmd", "munged"]
        .into_iter()
        .filter(|c| !have(c))
        .collect();
    if !missing.is_empty() {
        // On the real stderr: the harness swallows a passing test's eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED a_sweep_through_a_slurm_job_array_merges_to_the_local_tables: {} not installed (scripts/slurm/local_cluster.sh install)",
            missing.join(", ")
        );
        return;
    }
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED a_sweep_through_a_slurm_job_array_merges_to_the_local_tables: needs root to start slurmd"
        );
        return;
    }
    let tmp = std::env::temp_dir().join(format!("synsim-slurm-test-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    let cluster = Cluster {
        dir: tmp.join("cluster"),
    };
    let started = cluster.cmd("start");
    assert!(
        started.status.success(),
        "the local cluster did not start: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    let conf = cluster.dir.join("etc/slurm.conf");

    let sweep = tmp.join("small.json");
    let base = root().join("scenarios/syn_flood.json");
    fs::write(
        &sweep,
        format!(
            r#"{{"scenario": {base:?},
 "set": {{"duration_ms": 15000, "attackers[0].start_ms": 2000, "attackers[0].stop_ms": 8000}},
 "vary": [{{"path": "listeners[0].backlog", "values": [64, 512]}}],
 "repeat": 3, "run_charts": false}}"#
        ),
    )
    .unwrap();
    let sim = env!("CARGO_BIN_EXE_simulate");
    let (on_slurm, local) = (tmp.join("slurm"), tmp.join("local"));
    let sub = Command::new("timeout")
        .args(["240", "bash"])
        .arg(root().join("scripts/slurm/sweep.sbatch"))
        .args([&sweep, &on_slurm])
        .arg(sim)
        .env("SLURM_CONF", &conf)
        .env("SYNSIM_SBATCH_WAIT", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&sub.stdout);
    assert!(
        sub.status.success(),
        "sweep.sbatch failed: {text} {}",
        String::from_utf8_lossy(&sub.stderr)
    );
    assert!(text.contains("(6 runs)"), "{text}");
    let tasks = fs::read_dir(&on_slurm)
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            let n = n.to_string_lossy();
            n.starts_with("slurm-") && !n.starts_with("slurm-merge")
        })
        .count();
    assert_eq!(tasks, 6, "one output file per array task");
    let ran = Command::new(sim)
        .arg("sweep")
        .arg(&sweep)
        .arg("--out")
        .arg(&local)
        .args(["-j", "2", "-q"])
        .status()
        .unwrap();
    assert!(ran.success());
    for name in ["results.csv", "aggregate.csv"] {
        let a = fs::read(on_slurm.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a, fs::read(local.join(name)).unwrap(), "{name}");
    }
    drop(cluster);
    let _ = fs::remove_dir_all(&tmp);
}
