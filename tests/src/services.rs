//! The processes an app under test needs around it: an X display, a session bus, a keyring and
//! tauri-driver (with its WebKitWebDriver). Each says itself where it listens, or is checked to
//! be the one listening there: nothing is found by guessing a free display or port.

use crate::patience;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// The lines a child writes to its stdout, as they come (read on a thread of their own, so
/// that each can be awaited with a deadline).
pub(crate) fn lines_of(stdout: ChildStdout) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// Polls `ready` every 50 ms until it holds; panics naming `what` once `within` has passed.
pub(crate) fn wait_until(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < within, "timed out after {within:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Xvfb on a display it chooses itself (`-displayfd`: the server takes the first free display
/// and writes its number once it accepts clients). A server that does not start is an error
/// carrying what it printed.
pub(crate) fn start_xvfb() -> (Child, String) {
    let mut log = tempfile::tempfile().expect("a file for Xvfb's messages");
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log.try_clone().expect("Xvfb's log"))
        .spawn()
        .expect("start Xvfb (install the xvfb package)");
    let lines = lines_of(child.stdout.take().expect("Xvfb's stdout"));
    let within = patience::app_start();
    let display = lines.recv_timeout(within).ok().and_then(|l| l.trim().parse::<u32>().ok());
    if let Some(n) = display {
        return (child, format!(":{n}"));
    }
    let _ = child.kill();
    let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
    let mut said = String::new();
    let _ = log.rewind().and_then(|()| log.read_to_string(&mut said));
    panic!("Xvfb did not report a display within {within:?} ({status}); it said:\n{said}");
}

/// A private D-Bus session bus (the credential store talks over it, as on a desktop),
/// listening on a socket in `dir`; returns the address the daemon printed once listening.
pub(crate) fn start_session_bus(dir: &Path) -> (Child, String) {
    let socket = dir.join("bus");
    let _ = std::fs::remove_file(&socket); // left by an earlier launch on this folder
    let mut child = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--nopidfile", "--print-address", "--address"])
        .arg(format!("unix:path={}", socket.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dbus-daemon (install the dbus package)");
    let lines = lines_of(child.stdout.take().expect("dbus-daemon's stdout"));
    let within = patience::service();
    match lines.recv_timeout(within) {
        Ok(address) if address.starts_with("unix:") => (child, address.trim().to_string()),
        said => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dbus-daemon did not print its address within {within:?}: {said:?}");
        }
    }
}

/// An unlocked gnome-keyring (Secret Service) on the session bus `bus`, keeping its files in
/// `dir/keyring`: the app under test keeps its keys in a real credential store. `None` where
/// gnome-keyring is not installed, unless `GATEHOUSE_REQUIRE_KEYRING=1` (then it panics).
pub(crate) fn start_keyring(dir: &Path, bus: &str) -> Option<Child> {
    let required = std::env::var("GATEHOUSE_REQUIRE_KEYRING").is_ok_and(|v| v == "1");
    let (data, runtime) = (dir.join("keyring/data"), dir.join("keyring/run"));
    for folder in [&data, &runtime] {
        std::fs::create_dir_all(folder).expect("keyring folder");
        std::fs::set_permissions(folder, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("keyring folder mode");
    }
    let started = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("XDG_DATA_HOME", &data)
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match started {
        Ok(child) => child,
        Err(e) if !required => {
            eprintln!("no gnome-keyring ({e}): the app keeps its keys for one run only");
            return None;
        }
        Err(e) => panic!("start gnome-keyring-daemon (apt install gnome-keyring): {e}"),
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("keyring stdin");
        stdin.write_all(b"gatehouse-e2e").expect("unlock the keyring");
    } // closed: the daemon reads the password to its end
    wait_until("the keyring on the session bus", patience::service(), || {
        Command::new("dbus-send")
            .args(["--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
            .args(["org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("boolean true"))
    });
    Some(child)
}

/// How many times tauri-driver is started on new ports before giving up.
const DRIVER_TRIES: usize = 5;

/// tauri-driver and the WebKitWebDriver it starts, on two distinct ports of loopback; returns
/// the child and tauri-driver's port.
///
/// tauri-driver cannot bind a port the system chose and say which, so the harness picks two
/// ports the system reports free and then checks, in /proc, that both are listened on by
/// sockets of tauri-driver's own process tree: a port taken by anyone else in the meantime
/// (tauri-driver cannot bind it, or a stranger would answer there) shows as a port not ours,
/// and the whole start is tried again on new ports.
pub(crate) fn start_driver(env: &[(&'static str, String)]) -> (Child, u16) {
    let mut refusals = Vec::new();
    for _ in 0..DRIVER_TRIES {
        let (port, native_port) = two_free_ports();
        let mut child = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start tauri-driver (cargo install tauri-driver --locked)");
        let mut tree = Tree::default();
        match wait_listening(&mut child, &mut tree, &[port, native_port]) {
            Ok(()) => return (child, port),
            Err(why) => {
                stop_tree(&mut child);
                tree.kill_survivors();
                refusals.push(format!("ports {port} and {native_port}: {why}"));
            }
        }
    }
    panic!("tauri-driver never listened on ports of its own:\n{}", refusals.join("\n"));
}

/// Two ports the system reports free, distinct (both are held while the second is chosen).
fn two_free_ports() -> (u16, u16) {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port on loopback");
    let (a, b) = (bind(), bind());
    let port = |l: &std::net::TcpListener| l.local_addr().expect("a bound address").port();
    (port(&a), port(&b))
}

/// Waits until every port in `ports` is listened on by a socket of `child`'s process tree
/// (noting its processes in `tree`). Fails early when the child ends or a port is listened
/// on by a socket of another process.
fn wait_listening(child: &mut Child, tree: &mut Tree, ports: &[u16]) -> Result<(), String> {
    let within = patience::service();
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("tauri-driver ended ({status})"));
        }
        tree.note(child.id());
        let listening = listening_sockets();
        let ours = sockets_of(&descendants(child.id()));
        let mut all_ours = true;
        for port in ports {
            let on_port: Vec<u64> =
                listening.iter().filter(|(p, _)| p == port).map(|(_, inode)| *inode).collect();
            if on_port.iter().any(|inode| !ours.contains(inode)) {
                return Err(format!("port {port} is listened on by another process"));
            }
            all_ours &= !on_port.is_empty();
        }
        if all_ours {
            return Ok(());
        }
        if start.elapsed() > within {
            return Err(format!("not listening after {within:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// (port, socket inode) of every TCP socket listening on this machine (IPv4 and IPv6).
fn listening_sockets() -> Vec<(u16, u64)> {
    const LISTEN: &str = "0A";
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            let port = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            if let (true, Some(port), Ok(inode)) = (*state == LISTEN, port, inode.parse::<u64>()) {
                found.push((port, inode));
            }
        }
    }
    found
}

/// `root` and every process below it now (by parent pid), `root` first.
pub(crate) fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid ...: the name may hold spaces, so count after its ')'.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if let Some(ppid) = ppid.and_then(|p| p.parse::<u32>().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parent_of.iter().filter(|(_, p)| *p == parent).map(|(pid, _)| *pid));
        i += 1;
    }
    tree
}

/// The socket inodes open in any of `pids`.
fn sockets_of(pids: &[u32]) -> HashSet<u64> {
    let mut inodes = HashSet::new();
    for pid in pids {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"));
        for fd in fds.into_iter().flatten().flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else { continue };
            let target = target.to_string_lossy();
            if let Some(inode) = target.strip_prefix("socket:[").and_then(|t| t.strip_suffix(']')) {
                inodes.extend(inode.parse::<u64>().ok());
            }
        }
    }
    inodes
}

/// The processes seen below a child (pid and start time, so that a pid used again by
/// another process is never taken for one of them), with their names.
#[derive(Default)]
pub(crate) struct Tree(Vec<(u32, String)>, Vec<String>);

impl Tree {
    /// Notes the processes below `root` now.
    pub(crate) fn note(&mut self, root: u32) {
        for pid in descendants(root).into_iter().skip(1) {
            if let Some(started) = start_time(pid) {
                if !self.0.contains(&(pid, started.clone())) {
                    self.0.push((pid, started));
                    let name = std::fs::read_to_string(format!("/proc/{pid}/comm"));
                    self.1.push(name.unwrap_or_default().trim().to_string());
                }
            }
        }
    }

    /// The processes noted, by name and pid, and whether each still runs: for a failure.
    pub(crate) fn describe(&self) -> String {
        let seen = self.0.iter().zip(&self.1).map(|((pid, started), name)| {
            let state = if running(*pid, started) { "running" } else { "ended" };
            format!("{name} {pid} ({state})")
        });
        seen.collect::<Vec<_>>().join(", ")
    }

    /// The pids noted.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.0.iter().map(|(pid, _)| *pid).collect()
    }

    /// SIGKILLs the processes noted that still run (left behind when their parent ended:
    /// WebKitWebDriver when tauri-driver could not bind its port, the app when its session
    /// ended but the app had not yet), and waits until they are gone: an app still running
    /// would take the next launch on its data folder for a second instance, which hands over
    /// to it and exits.
    pub(crate) fn kill_survivors(&self) {
        let alive = |(pid, started): &&(u32, String)| running(*pid, started);
        for (pid, _) in self.0.iter().filter(alive) {
            let _ = signal::kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
        }
        // No panic here (this runs in `Drop`): a process that outlives SIGKILL is beyond help.
        let (start, within) = (Instant::now(), patience::service());
        while self.0.iter().any(|p| alive(&p)) && start.elapsed() < within {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether the process `pid` that started at `started` still runs: any of its threads has not
/// ended. A killed app's main thread is a zombie while its other threads still exit, holding
/// its files (its instance socket still listening, and answering a new launch): the process
/// is gone only when every thread is.
fn running(pid: u32, started: &String) -> bool {
    if start_time(pid).as_ref() != Some(started) {
        return false;
    }
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"));
    threads.into_iter().flatten().flatten().any(|thread| {
        let stat = std::fs::read_to_string(thread.path().join("stat")).unwrap_or_default();
        let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
        !matches!(state, Some("Z" | "X") | None)
    })
}

/// A process's start time (field 22 of /proc/PID/stat), which tells it from a later process
/// given the same pid.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(19).map(str::to_string)
}

/// Stops `child`: SIGTERM first (tauri-driver then stops the WebKitWebDriver it started; the
/// keyring and the bus end cleanly), up to 5 s, then SIGKILL.
pub(crate) fn stop_tree(child: &mut Child) {
    let pid = Pid::from_raw(child.id() as i32);
    if signal::kill(pid, Signal::SIGTERM).is_ok() {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
