//! External tools the tests compare seam against (OpenSSL, Python, a C
//! compiler, …). A test whose tool is missing must not pass silently:
//!
//! ```ignore
//! if !seam_tests::require_tool("openssl") {
//!     return;
//! }
//! ```
//!
//! prints `SKIPPED <test>: openssl not found` and lets the test return, so a
//! developer without the tool still sees the rest of the suite; with
//! `SEAM_REQUIRE_TOOLS=1` (set by `./scripts/test-all`) it fails the test
//! instead, naming the tool and how to install it.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The variable that turns a missing tool into a failure.
pub const REQUIRE_TOOLS: &str = "SEAM_REQUIRE_TOOLS";

/// A tool the tests know how to probe and install.
struct Tool {
    name: &'static str,
    /// Arguments that make it print its version and exit 0.
    probe: &'static [&'static str],
    install: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "openssl",
        probe: &["version"],
        install: "apt-get install openssl",
    },
    Tool {
        name: "python3",
        probe: &["--version"],
        install: "apt-get install python3",
    },
    Tool {
        name: "gnutls-cli",
        probe: &["--version"],
        install: "apt-get install gnutls-bin",
    },
    Tool {
        name: "cc",
        probe: &["--version"],
        install: "apt-get install gcc",
    },
];

fn tool(name: &str) -> &'static Tool {
    TOOLS.iter().find(|t| t.name == name).unwrap_or_else(|| {
        panic!("require_tool({name:?}): unknown tool; add it to seam_tests::tools::TOOLS")
    })
}

/// Whether `name` runs here (probed once per process).
pub fn tool_available(name: &str) -> bool {
    static SEEN: OnceLock<Mutex<HashMap<&'static str, bool>>> = OnceLock::new();
    let t = tool(name);
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    *seen.entry(t.name).or_insert_with(|| {
        Command::new(t.name)
            .args(t.probe)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    })
}

/// Whether missing tools fail the tests (`SEAM_REQUIRE_TOOLS=1`).
pub fn tools_required() -> bool {
    std::env::var(REQUIRE_TOOLS).is_ok_and(|v| v == "1")
}

/// True when `name` runs here. Otherwise prints `SKIPPED <test>: <name> not
/// found` and returns false, or, with `SEAM_REQUIRE_TOOLS=1`, panics naming
/// the tool and how to install it.
pub fn require_tool(name: &str) -> bool {
    if tool_available(name) {
        return true;
    }
    let install = tool(name).install;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("this test");
    if tools_required() {
        panic!("{test}: {name} not found ({REQUIRE_TOOLS}=1 makes that a failure); install it: {install}");
    }
    // Straight to stderr: libtest hides what a passing test prints with
    // eprintln!, and a skip must show.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {name} not found (install it: {install})"
    );
    false
}

/// Reports a test that cannot run on this platform (not a missing tool:
/// nothing to install), visibly.
pub fn skipped(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("this test");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}
