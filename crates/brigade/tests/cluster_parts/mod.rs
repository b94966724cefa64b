//! Real parts for the cluster tests: a `redis-server` of its own on a
//! loopback port, and worker programs (this very test binary, started with
//! the worker switch) standing in for machines. A server that cannot be
//! found or started fails the test: it never skips.

#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` in a temporary directory, on a free loopback port.
pub struct Server {
    pub port: u16,
    dir: PathBuf,
    persistent: bool,
    password: Option<String>,
    /// Serve TLS only (a self-signed certificate made for the test).
    tls: bool,
    child: Option<Child>,
}

impl Server {
    /// A server without persistence.
    pub fn start() -> Server {
        Server::start_with(false)
    }

    /// A server with `appendonly yes` when `persistent`.
    pub fn start_with(persistent: bool) -> Server {
        Server::start_full(persistent, None, false)
    }

    /// A server that asks for `password` (`requirepass`), and serves TLS
    /// alone when `tls`.
    pub fn start_full(persistent: bool, password: Option<&str>, tls: bool) -> Server {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().unwrap().port()
        };
        let dir = std::env::temp_dir().join(format!(
            "brigade-redis-{}-{port}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Server {
            port,
            dir,
            persistent,
            password: password.map(str::to_owned),
            tls,
            child: None,
        };
        if tls {
            server.make_certificate();
        }
        server.launch();
        server
    }

    /// The URL, with the password and TLS if the server has them (the
    /// test certificate is self-signed: `#insecure` skips its check).
    pub fn url(&self) -> String {
        let auth = self
            .password
            .as_ref()
            .map_or(String::new(), |p| format!(":{p}@"));
        if self.tls {
            format!("rediss://{auth}127.0.0.1:{}/0#insecure", self.port)
        } else {
            format!("redis://{auth}127.0.0.1:{}/0", self.port)
        }
    }

    fn make_certificate(&self) {
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=127.0.0.1"])
            .arg("-keyout")
            .arg(self.dir.join("key.pem"))
            .arg("-out")
            .arg(self.dir.join("cert.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl must be installed");
        assert!(made.success(), "openssl could not make a certificate");
    }

    fn launch(&mut self) {
        let mut cmd = Command::new("redis-server");
        if self.tls {
            cmd.arg("--port")
                .arg("0")
                .arg("--tls-port")
                .arg(self.port.to_string())
                .arg("--tls-cert-file")
                .arg(self.dir.join("cert.pem"))
                .arg("--tls-key-file")
                .arg(self.dir.join("key.pem"))
                .arg("--tls-ca-cert-file")
                .arg(self.dir.join("cert.pem"))
                .arg("--tls-auth-clients")
                .arg("no");
        } else {
            cmd.arg("--port").arg(self.port.to_string());
        }
        if let Some(p) = &self.password {
            cmd.arg("--requirepass").arg(p);
        }
        cmd.arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(&self.dir)
            .arg("--save")
            .arg("")
            .arg("--appendonly")
            .arg(if self.persistent { "yes" } else { "no" })
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if let Ok(mut c) = self.connection() {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "redis-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn connection(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection_with_timeout(Duration::from_secs(2))
    }

    /// Stops the server as an operator would (`SHUTDOWN`, which writes
    /// the append-only file), and starts it again on the same port and
    /// directory.
    pub fn restart(&mut self) {
        let mut c = self.connection().unwrap();
        let _ = redis::cmd("SHUTDOWN").query::<()>(&mut c);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        self.launch();
    }

    /// Stops the server for good.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The keys matching `pattern`.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let mut c = self.connection().unwrap();
        redis::cmd("KEYS").arg(pattern).query(&mut c).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A worker program: this test binary, taken over before `main` by the
/// worker switch.
pub struct Worker {
    child: Child,
}

impl Worker {
    pub fn start(url: &str, namespace: &str, processes: usize) -> Worker {
        Worker::start_with(url, namespace, processes, &[])
    }

    pub fn start_with(
        url: &str,
        namespace: &str,
        processes: usize,
        env: &[(&str, &str)],
    ) -> Worker {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.env(brigade::process::WORKER_ENV, url)
            .env(
                brigade::process::WORKER_PROCESSES_ENV,
                processes.to_string(),
            )
            .env(brigade::process::WORKER_NAMESPACE_ENV, namespace)
            .env(brigade::process::WORKER_LEASE_ENV, "1000")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        die_with_parent(&mut cmd);
        Worker {
            child: cmd.spawn().unwrap(),
        }
    }

    /// Kills the whole worker, as a machine that loses power (its
    /// processes follow it: they die with their parent).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Ends `cmd`'s process when the test process ends, however it ends.
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: between fork and exec only prctl runs, an async-signal-safe
    // system call that touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Waits for `condition`, failing the test after `bound` (a real-time
/// bound on an outside system, not a timing claim).
pub fn eventually(bound: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
