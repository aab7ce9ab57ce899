//! How long the harness waits, by what for. Each wait has a deadline (no test may hang), and
//! each deadline grows when the machine is loaded, since the machines are shared: a factor of
//! max(1, load average / CPUs), read when the wait starts, times `GATEHOUSE_E2E_PATIENCE`
//! (a number, 1 when unset). A wait ends as soon as its condition holds: more patience never
//! slows a passing test.

use std::time::Duration;

/// One step in the window: an element, a text or a count after a click.
pub fn step() -> Duration {
    scaled(Duration::from_secs(20))
}

/// The app's first screen, from starting Xvfb to the first element with a `data-testid`.
pub fn app_start() -> Duration {
    scaled(Duration::from_secs(60))
}

/// A helper process saying it is ready (the session bus, the keyring, tauri-driver's ports).
pub fn service() -> Duration {
    scaled(Duration::from_secs(20))
}

/// `base` times the patience factor.
pub fn scaled(base: Duration) -> Duration {
    base.mul_f64(factor())
}

fn factor() -> f64 {
    let asked = std::env::var("GATEHOUSE_E2E_PATIENCE").ok().map(|v| {
        v.trim().parse::<f64>().ok().filter(|f| f.is_finite() && *f > 0.0).unwrap_or_else(|| {
            panic!("GATEHOUSE_E2E_PATIENCE={v:?}: a positive number (a factor) is expected")
        })
    });
    asked.unwrap_or(1.0) * load_factor()
}

/// max(1, the one-minute load average / the number of CPUs).
fn load_factor() -> f64 {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().and_then(|f| f.parse::<f64>().ok()))
        .unwrap_or(0.0);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    (load / cpus).max(1.0)
}
